import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const TAIL = Symbol('bookapi.pipelineTail');

/**
 * The answer Node is writing on a connection (answers to later pipelined
 * requests queue behind it), and the answer of the last request that had to
 * wait its turn on it.
 */
type Connection = Socket & { _httpMessage?: ServerResponse | null; [TAIL]?: ServerResponse };

/**
 * Runs `next` once every request ahead of this one on its connection is
 * answered. Node emits every request a client pipelines on one keep-alive
 * connection as soon as it is parsed and only queues their answers, so a
 * login sent right behind its signup, or a GET behind a DELETE, would run
 * before the request ahead of it had taken effect. RFC 9112 §9.3.2 allows
 * parallel processing only of safe requests; one at a time is simpler. A
 * request behind an answer that closed the connection (`Connection: close`,
 * a refused body) is not run at all (RFC 9112 §9.6): nobody would hear it.
 *
 * Node writes one answer at a time per connection (`_httpMessage`, the same
 * field since its first releases) and hands the connection to the next
 * queued answer when one finishes. So a request is first in line when the
 * answer being written is its own: then `next` runs at once, with nothing
 * allocated and nothing kept — the case of every client that does not
 * pipeline. The pipelining tests guard the reliance on that field. A request
 * that must wait waits for the one right ahead of it (a chain, one listener
 * per answer), not all for the answer being written.
 */
export function afterPrevious(raw: IncomingMessage, res: ServerResponse, next: () => void): void {
  const connection = raw.socket as Connection | null;
  if (!connection) {
    next();
    return;
  }
  const current = connection._httpMessage;
  if (current === res && !connection.writableEnded) {
    next();
    return;
  }
  // Waiting: behind the request that arrived right before this one, if it is still at work.
  // (`writableFinished` is enough for it: written out, its request is done, and so are those
  // ahead of it.)
  const tail = connection[TAIL];
  connection[TAIL] = res;
  inTurn(
    connection,
    res,
    next,
    tail !== undefined && !tail.writableFinished && !tail.destroyed ? tail : undefined,
  );
}

function inTurn(connection: Connection, res: ServerResponse, next: () => void, ahead?: ServerResponse): void {
  // Parsed after an answer that ended the connection: nobody would hear this one.
  if (connection.writableEnded || connection.destroyed) return;
  const current = connection._httpMessage;
  if (current === res || current === undefined || current === null) {
    next();
    return;
  }
  // Not `writableFinished` for `current`: an answer can be written out before its 'finish' hands
  // the connection on, and the answer handed it next may belong to a request still ahead of this one.
  onceDone(ahead ?? current, () => inTurn(connection, res, next));
}

/**
 * Runs `then` once no answer is pending on the connection any more: for the
 * answers Node writes on the bare socket (a malformed or timed-out request,
 * CONNECT), which must come after the answers to the requests ahead, not
 * instead of them.
 */
export function whenAnswered(socket: Socket, then: () => void): void {
  const current = (socket as Connection)._httpMessage;
  // An answer to a request still being received (its body timed out, say) is not ahead of the
  // failure: it is the failure's own request, and will never be written.
  if (current === undefined || current === null || socket.destroyed || current.req?.complete === false) {
    then();
    return;
  }
  onceDone(current, () => whenAnswered(socket, then));
}

function onceDone(answer: ServerResponse, then: () => void): void {
  let called = false;
  const done = () => {
    if (called) return;
    called = true;
    answer.off('finish', done);
    answer.off('close', done);
    then();
  };
  answer.once('finish', done);
  answer.once('close', done);
}
