import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const LAST = Symbol('bookapi.lastResponse');
type Tracked = Socket & { [LAST]?: ServerResponse };

/**
 * Runs `next` once the answer to the previous request on the same connection
 * is finished. Node emits every request a client pipelines on one keep-alive
 * connection as soon as it is parsed and only queues their answers, so a
 * login sent right behind its signup, or a GET behind a DELETE, would run
 * before the request ahead of it had taken effect. RFC 9112 §9.3.2 allows
 * parallel processing only of safe requests; one at a time is simpler and
 * costs nothing when nobody pipelines: the previous answer is then already
 * finished, and the check is two property accesses.
 */
export function afterPrevious(raw: IncomingMessage, res: ServerResponse, next: () => void): void {
  const socket = raw.socket as Tracked | null;
  if (!socket) {
    next();
    return;
  }
  const previous = socket[LAST];
  socket[LAST] = res;
  if (previous === undefined || previous === res || previous.writableFinished || previous.destroyed) {
    next();
    return;
  }
  let called = false;
  const go = () => {
    if (called) return;
    called = true;
    previous.off('finish', go);
    previous.off('close', go);
    next();
  };
  previous.once('finish', go);
  previous.once('close', go);
}
