import { tokenRequired } from '../auth/decorators.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { errors } from '../errors.js';
import { linkNext } from '../http/pagination.js';
import { type Reply, type Req, route } from '../http/route.js';
import type { AuthUser } from '../users/user.js';
import { type BookRow, deleteBook, findBook, insertBook, listBooks, updateBook } from './repository.js';
import {
  AddBookSchema,
  type Book,
  CreateBookSchema,
  DeleteBookSchema,
  GetBookSchema,
  ListBooksSchema,
  UpdateBookSchema,
} from './schemas.js';

const invalidInput = () => errors.invalidInput('Invalid input!');

export class BookRoutes {
  constructor(private readonly deps: { db: Db; clock: Clock }) {}

  @route({ method: 'GET', url: '/bookapi/books', schema: ListBooksSchema })
  @tokenRequired
  async list(_user: AuthUser, req: Req<typeof ListBooksSchema>, reply: Reply<typeof ListBooksSchema>) {
    const limit = Number(req.query.limit);
    const { after } = req.query;
    const rows = await listBooks(this.deps.db, after === undefined ? 0 : Number(after), limit);
    linkNext(reply, '/bookapi/books', limit, rows, (book) => book.id);
    return { Books: rows.map(toBook) };
  }

  @route({ method: 'POST', url: '/bookapi/addbook', schema: AddBookSchema, invalidInput })
  @tokenRequired
  async addBook(user: AuthUser, req: Req<typeof AddBookSchema>) {
    await this.create(user, req.body);
    return { message: 'new book created' };
  }

  @route({ method: 'POST', url: '/bookapi/books', schema: CreateBookSchema, invalidInput })
  @tokenRequired
  async createBook(user: AuthUser, req: Req<typeof CreateBookSchema>, reply: Reply<typeof CreateBookSchema>) {
    const book = await this.create(user, req.body);
    return reply.code(201).header('location', `/bookapi/books/${book.id}`).send(book);
  }

  @route({ method: 'GET', url: '/bookapi/books/:id', schema: GetBookSchema })
  @tokenRequired
  async getBook(_user: AuthUser, req: Req<typeof GetBookSchema>) {
    const row = await findBook(this.deps.db, Number(req.params.id));
    if (!row) throw errors.bookNotFound();
    return toBook(row);
  }

  @route({ method: 'PATCH', url: '/bookapi/books/:id', schema: UpdateBookSchema, invalidInput })
  @tokenRequired
  async updateBook(user: AuthUser, req: Req<typeof UpdateBookSchema>) {
    const id = Number(req.params.id);
    const row = await this.findOwned(user, id);
    try {
      const updated = await updateBook(this.deps.db, id, {
        title: req.body.title?.trim() ?? row.title,
        author: req.body.author?.trim() ?? row.author,
        now: this.now(),
      });
      if (!updated) throw errors.bookNotFound();
      return toBook(updated);
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.bookExists();
      throw error;
    }
  }

  @route({ method: 'DELETE', url: '/bookapi/books/:id', schema: DeleteBookSchema })
  @tokenRequired
  async deleteBook(user: AuthUser, req: Req<typeof DeleteBookSchema>) {
    const id = Number(req.params.id);
    await this.findOwned(user, id);
    if (!(await deleteBook(this.deps.db, id))) throw errors.bookNotFound();
    return { message: 'Book deleted' };
  }

  private async create(user: AuthUser, body: { title: string; author: string }): Promise<Book> {
    try {
      const row = await insertBook(this.deps.db, {
        title: body.title.trim(),
        author: body.author.trim(),
        ownerId: user.id,
        now: this.now(),
      });
      return toBook(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.bookExists();
      throw error;
    }
  }

  /** Object-level authorization: only the owner or an admin may change a book. */
  private async findOwned(user: AuthUser, id: number): Promise<BookRow> {
    const row = await findBook(this.deps.db, id);
    if (!row) throw errors.bookNotFound();
    if (row.owner_id !== user.id && !user.admin) throw errors.notBookOwner();
    return row;
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}

function toBook(row: BookRow): Book {
  return {
    id: row.id,
    title: row.title,
    author: row.author,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
