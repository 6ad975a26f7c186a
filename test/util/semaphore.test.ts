import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/util/semaphore.js';

test('a semaphore runs at most its slots at once, in order, and frees slots on failure', async () => {
  const semaphore = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (i: number) =>
    semaphore.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      order.push(i);
      if (i === 2) throw new Error('boom');
      return i;
    });
  const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(task));
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(results[2]?.status, 'rejected');
  assert.equal(await semaphore.run(async () => 'still works'), 'still works');
});
