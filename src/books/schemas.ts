import { type Static, Type } from 'typebox';
import { PageLimit } from '../http/pagination.js';
import { ErrorResponse, IdString, MessageResponse } from '../http/schemas.js';
import { BLANK_CLASS } from '../users/username.js';
import { MAX_QUERY_LENGTH, MAX_QUERY_WORDS } from './search.js';

export const TEXT = { minLength: 1, maxLength: 256 } as const;
// At least one visible character: not "   ", a zero-width space, a filler such as
// U+3164 or U+2800, or a combining mark alone (the same blanks usernames refuse).
// No control characters or lone surrogates (they would not round-trip).
const Text = Type.String({
  ...TEXT,
  pattern: `^(?=[\\s\\S]*[^\\s\\p{C}\\p{M}${BLANK_CLASS}])[^\\p{Cc}\\p{Cs}]*$`,
});

export const Book = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  author: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Book = Static<typeof Book>;

/** Owner, ids and timestamps come from the server; anything else a client sends is dropped. */
export const NewBook = Type.Object({ title: Text, author: Text }, { additionalProperties: false });
const BookChanges = Type.Object(
  { title: Type.Optional(Text), author: Type.Optional(Text) },
  // At least one of the two (minProperties would count fields that are about to be dropped).
  { additionalProperties: false, anyOf: [{ required: ['title'] }, { required: ['author'] }] },
);
const BookParams = Type.Object({ id: IdString });

export const ListBooksSchema = {
  tags: ['books'],
  summary: 'List or search books, oldest first',
  description:
    'Keyset pagination: when a page is full, a `Link: <…>; rel="next"` header gives the next one, ' +
    'with the same `q` and `owner`. `q` finds the books whose title or author contains every one of its ' +
    'words, anywhere inside a word, ignoring case and accents (`tolkien`, `Tolkién` and `hobb` find ' +
    '"The Hobbit" by J. R. R. Tolkien).',
  querystring: Type.Object(
    {
      limit: PageLimit,
      after: Type.Optional({ ...IdString, description: 'Return books with an id greater than this' }),
      q: Type.Optional(
        Type.String({
          maxLength: MAX_QUERY_LENGTH,
          // No control characters (NUL included) or broken Unicode, as in titles.
          pattern: '^[^\\p{Cc}\\p{Cs}]*$',
          description:
            `Search words (at most ${MAX_QUERY_LENGTH} characters, ${MAX_QUERY_WORDS} words), split at ` +
            'spaces and punctuation like the stored titles and authors; every word must appear in the title ' +
            'or the author. Empty, or only spaces and punctuation: no filter.',
        }),
      ),
      owner: Type.Optional(Type.Literal('me', { description: '`me`: only the books the caller owns' })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ Books: Type.Array(Book) }, { additionalProperties: false }),
    400: { ...ErrorResponse, description: 'A bad limit, after, q (too long, too many words) or owner' },
  },
} as const;

export const AddBookSchema = {
  tags: ['books'],
  summary: 'Add a book (the original tutorial route)',
  body: NewBook,
  response: {
    200: { ...MessageResponse, description: 'new book created' },
    400: { ...ErrorResponse, description: 'Invalid input!' },
    409: { ...ErrorResponse, description: 'Book with same title already exists!' },
  },
} as const;

export const CreateBookSchema = {
  tags: ['books'],
  summary: 'Create a book',
  body: NewBook,
  response: {
    201: { ...Book, description: 'The created book; its URL is in Location' },
    400: { ...ErrorResponse, description: 'Invalid input!' },
    409: { ...ErrorResponse, description: 'Book with same title already exists!' },
  },
} as const;

export const GetBookSchema = {
  tags: ['books'],
  summary: 'Get one book',
  description:
    'The answer carries an ETag; a request whose If-None-Match names it gets 304 without a body. ' +
    'Send the ETag back in If-Match with a PATCH or DELETE to make sure no other change came in between.',
  params: BookParams,
  response: {
    200: Book,
    304: Type.Null({ description: 'Not modified: If-None-Match names the current ETag' }),
    400: ErrorResponse,
    404: { ...ErrorResponse, description: 'book does not exist' },
  },
} as const;

export const UpdateBookSchema = {
  tags: ['books'],
  summary: "Change a book's title or author (owner or admin)",
  params: BookParams,
  body: BookChanges,
  response: {
    200: Book,
    400: ErrorResponse,
    403: { ...ErrorResponse, description: 'Not the owner and not an admin' },
    404: { ...ErrorResponse, description: 'book does not exist' },
    409: { ...ErrorResponse, description: 'Book with same title already exists!' },
    412: { ...ErrorResponse, description: 'If-Match or If-Unmodified-Since: the book has changed since' },
  },
} as const;

export const DeleteBookSchema = {
  tags: ['books'],
  summary: 'Delete a book (owner or admin)',
  params: BookParams,
  response: {
    200: { ...MessageResponse, description: 'Book deleted' },
    400: ErrorResponse,
    403: { ...ErrorResponse, description: 'Not the owner and not an admin' },
    404: { ...ErrorResponse, description: 'book does not exist' },
    412: { ...ErrorResponse, description: 'If-Match or If-Unmodified-Since: the book has changed since' },
  },
} as const;
