import { scope, tokenRequired } from '../auth/decorators.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { HotPath } from '../db/hot-path.js';
import { writeTransaction } from '../db/write-transaction.js';
import { errors } from '../errors.js';
import { type Reply, type Req, route } from '../http/route.js';
import type { AuthUser } from '../users/user.js';
import { checkPreconditions, etagOf } from './conditional.js';
import { BookReads, toBook } from './reads.js';
import { type BookRow, deleteBook, insertBook, lockBook, updateBook } from './repository.js';
import {
  AddBookSchema,
  type Book,
  CreateBookSchema,
  DeleteBookSchema,
  GetBookSchema,
  ListBooksSchema,
  UpdateBookSchema,
} from './schemas.js';
import { queryWords } from './search.js';

const invalidInput = () => errors.invalidInput('Invalid input!');

/** Object-level authorization: the book if the user may change it, as its owner or an admin. */
function owned(user: AuthUser, row: BookRow | undefined): BookRow {
  if (!row) throw errors.bookNotFound();
  if (row.owner_id !== user.id && !user.admin) throw errors.notBookOwner();
  return row;
}

export class BookRoutes {
  private readonly reads: BookReads;

  constructor(private readonly deps: { db: Db; clock: Clock; hot?: HotPath }) {
    this.reads = new BookReads(deps.db, deps.hot);
  }

  // Not async: a cached page is answered without a promise.
  @route({ method: 'GET', url: '/bookapi/books', schema: ListBooksSchema })
  @scope('books:read')
  @tokenRequired
  list(user: AuthUser, req: Req<typeof ListBooksSchema>, reply: Reply<typeof ListBooksSchema>) {
    const { after, q, owner } = req.query;
    const words = queryWords(q);
    return this.reads.list(req, reply, {
      after: after === undefined ? 0 : Number(after),
      limit: Number(req.query.limit),
      filter: { words, ...(owner === 'me' ? { ownerId: user.id } : {}) },
      ...(words.length > 0 ? { q } : {}),
    });
  }

  @route({ method: 'POST', url: '/bookapi/addbook', schema: AddBookSchema, invalidInput })
  @scope('books:write')
  @tokenRequired
  async addBook(user: AuthUser, req: Req<typeof AddBookSchema>) {
    await this.create(user, req.body);
    return { message: 'new book created' };
  }

  @route({ method: 'POST', url: '/bookapi/books', schema: CreateBookSchema, invalidInput })
  @scope('books:write')
  @tokenRequired
  async createBook(user: AuthUser, req: Req<typeof CreateBookSchema>, reply: Reply<typeof CreateBookSchema>) {
    const book = await this.create(user, req.body);
    return reply
      .code(201)
      .header('location', `/bookapi/books/${book.id}`)
      .header('etag', etagOf(book))
      .send(book);
  }

  @route({ method: 'GET', url: '/bookapi/books/:id', schema: GetBookSchema })
  @scope('books:read')
  @tokenRequired
  getBook(_user: AuthUser, req: Req<typeof GetBookSchema>, reply: Reply<typeof GetBookSchema>) {
    return this.reads.get(req, reply, Number(req.params.id));
  }

  @route({ method: 'PATCH', url: '/bookapi/books/:id', schema: UpdateBookSchema, invalidInput })
  @scope('books:write')
  @tokenRequired
  async updateBook(user: AuthUser, req: Req<typeof UpdateBookSchema>, reply: Reply<typeof UpdateBookSchema>) {
    const id = Number(req.params.id);
    try {
      // The field a client leaves out keeps its value as of this change, not
      // as of a read another PATCH may have overtaken: read, lock and write at once.
      const updated = await writeTransaction(this.deps.db, async (trx) => {
        const row = owned(user, await lockBook(trx, id));
        checkPreconditions(req, row);
        return updateBook(trx, id, {
          title: req.body.title?.trim() ?? row.title,
          author: req.body.author?.trim() ?? row.author,
          now: this.now(),
        });
      });
      if (!updated) throw errors.bookNotFound();
      reply.header('etag', etagOf(updated));
      return toBook(updated);
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.bookExists();
      throw error;
    }
  }

  @route({ method: 'DELETE', url: '/bookapi/books/:id', schema: DeleteBookSchema })
  @scope('books:write')
  @tokenRequired
  async deleteBook(user: AuthUser, req: Req<typeof DeleteBookSchema>) {
    const id = Number(req.params.id);
    const deleted = await writeTransaction(this.deps.db, async (trx) => {
      checkPreconditions(req, owned(user, await lockBook(trx, id)));
      return deleteBook(trx, id);
    });
    if (!deleted) throw errors.bookNotFound();
    return { message: 'Book deleted' };
  }

  private async create(user: AuthUser, body: { title: string; author: string }): Promise<Book> {
    try {
      const row = await insertBook(
        this.deps.db,
        { title: body.title.trim(), author: body.author.trim(), ownerId: user.id, now: this.now() },
        this.deps.hot,
      );
      return toBook(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.bookExists();
      throw error;
    }
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
