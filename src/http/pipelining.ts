import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The answer Node is writing on a connection; answers to later pipelined requests queue behind it. */
type Connection = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Runs `next` once every request ahead of this one on its connection is
 * answered. Node emits every request a client pipelines on one keep-alive
 * connection as soon as it is parsed and only queues their answers, so a
 * login sent right behind its signup, or a GET behind a DELETE, would run
 * before the request ahead of it had taken effect. RFC 9112 §9.3.2 allows
 * parallel processing only of safe requests; one at a time is simpler.
 *
 * Node writes one answer at a time per connection (`_httpMessage`, the same
 * field since its first releases) and hands the connection to the next
 * queued answer when one finishes. So a request is first in line when the
 * answer being written is its own, or none: then `next` runs at once, with
 * nothing allocated and nothing kept — the case of every client that does
 * not pipeline. The pipelining test guards the reliance on that field.
 */
export function afterPrevious(raw: IncomingMessage, res: ServerResponse, next: () => void): void {
  const connection = raw.socket as Connection | null;
  const current = connection?._httpMessage;
  // Not `writableFinished`: an answer can be written out before its 'finish' hands the connection
  // on, and the answer handed it next may belong to another request still ahead of this one.
  if (!connection || current === undefined || current === null || current === res || current.destroyed) {
    next();
    return;
  }
  let called = false;
  const again = () => {
    if (called) return;
    called = true;
    current.off('finish', again);
    current.off('close', again);
    // The next answer in line may be another one ahead of this request.
    afterPrevious(raw, res, next);
  };
  current.once('finish', again);
  current.once('close', again);
}
