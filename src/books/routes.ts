import { scope, tokenRequired } from '../auth/decorators.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { HotPath } from '../db/hot-path.js';
import { writeTransaction } from '../db/write-transaction.js';
import { errors } from '../errors.js';
import { type Reply, type Req, route } from '../http/route.js';
import type { AuthUser } from '../users/user.js';
import { BookReads, toBook } from './reads.js';
import { type BookRow, deleteBook, findBook, insertBook, lockBook, updateBook } from './repository.js';
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

/** The book if the user may change it: its owner, or an admin. */
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
    return reply.code(201).header('location', `/bookapi/books/${book.id}`).send(book);
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
  async updateBook(user: AuthUser, req: Req<typeof UpdateBookSchema>) {
    const id = Number(req.params.id);
    try {
      // The field a client leaves out keeps its value as of this change, not
      // as of a read another PATCH may have overtaken: read, lock and write at once.
      const updated = await writeTransaction(this.deps.db, async (trx) => {
        const row = owned(user, await lockBook(trx, id));
        return updateBook(trx, id, {
          title: req.body.title?.trim() ?? row.title,
          author: req.body.author?.trim() ?? row.author,
          now: this.now(),
        });
      });
      if (!updated) throw errors.bookNotFound();
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
    await this.findOwned(user, id);
    if (!(await deleteBook(this.deps.db, id))) throw errors.bookNotFound();
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

  /** Object-level authorization: only the owner or an admin may change a book. */
  private async findOwned(user: AuthUser, id: number): Promise<BookRow> {
    return owned(user, await findBook(this.deps.db, id));
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
