import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { when } from '../format.js';
import { go, href } from '../router.js';
import type { Book, BookPage, Me } from '../types.js';
import { confirm, Field, Notice, Page, Pager, useAction, usePaged } from '../ui.js';

const PAGE = 20;

/**
 * Which books on this page the user may change. A book does not name its owner, so the user's
 * own books in the page's id range are asked for with `owner=me` and the same words: there can be
 * no more of them than the page holds, so one request of that size finds them all.
 */
function useOwned(me: Me, mine: boolean, q: string, books: Book[]): ReadonlySet<number> | 'all' {
  const [owned, setOwned] = useState<ReadonlySet<number>>(new Set());
  const everything = me.admin || mine;
  useEffect(() => {
    const first = books[0];
    const last = books.at(-1);
    if (everything || !first || !last) return setOwned(new Set());
    let live = true;
    const query = new URLSearchParams({ owner: 'me', limit: String(books.length) });
    if (q) query.set('q', q);
    if (first.id > 1) query.set('after', String(first.id - 1));
    api.call<BookPage>('GET', `/bookapi/books?${query}`).then(
      ({ data }) => live && setOwned(new Set(data.Books.filter((b) => b.id <= last.id).map((b) => b.id))),
      // Unknown: offer nothing; the API would still refuse another's book.
      () => live && setOwned(new Set()),
    );
    return () => {
      live = false;
    };
  }, [everything, q, books]);
  return everything ? 'all' : owned;
}

export function Books({ me, params }: { me: Me; params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const mine = params.get('mine') === '1';
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (q) query.set('q', q);
  if (mine) query.set('owner', 'me');
  const paged = usePaged<Book>(`/bookapi/books?${query}`, (d: BookPage) => d.Books);
  const owned = useOwned(me, mine, q, paged.items);
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);

  return (
    <Page title={mine ? 'My books' : 'Books'}>
      <nav class="tabs" aria-label="Which books">
        <a href={href('/books', { q })} aria-current={mine ? undefined : 'page'}>
          All books
        </a>
        <a href={href('/books', { q, mine: '1' })} aria-current={mine ? 'page' : undefined}>
          My books
        </a>
      </nav>
      <search>
        <form
          class="search"
          onSubmit={(e) => {
            e.preventDefault();
            go('/books', { q: search.trim(), mine: mine ? '1' : undefined });
          }}
        >
          <Field
            label="Search titles and authors"
            type="search"
            value={search}
            onInput={setSearch}
            maxLength={200}
          />
          <button type="submit">Search</button>
          {q && (
            <a href={href('/books', { mine: mine ? '1' : undefined })} class="button">
              Clear
            </a>
          )}
        </form>
      </search>
      <AddBook onAdded={paged.reload} />
      <section aria-labelledby="list-heading">
        <h2 id="list-heading">
          {q ? `Found for “${q}”` : mine ? 'Your books' : 'All books'}
          {paged.loading && <span class="muted"> (loading…)</span>}
        </h2>
        {paged.error && <Notice message={{ kind: 'error', text: paged.error }} />}
        {!paged.loading && !paged.error && paged.items.length === 0 && (
          <p class="muted">{q ? 'No book matches every word.' : 'No books here yet.'}</p>
        )}
        <ul class="books">
          {paged.items.map((book) => (
            <BookItem
              key={book.id}
              book={book}
              editable={owned === 'all' || owned.has(book.id)}
              onChanged={paged.reload}
            />
          ))}
        </ul>
        <Pager paged={paged} label="Books" />
      </section>
    </Page>
  );
}

function AddBook({ onAdded }: { onAdded: () => void }) {
  const [title, setTitle] = useState('');
  const [author, setAuthor] = useState('');
  const [busy, message, run] = useAction();
  return (
    <section class="card" aria-labelledby="add-heading">
      <h2 id="add-heading">Add a book</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const { data } = await api.call<Book>('POST', '/bookapi/books', { title, author });
            setTitle('');
            setAuthor('');
            onAdded();
            return `Added “${data.title}” by ${data.author}.`;
          });
        }}
      >
        <Field label="Title" value={title} onInput={setTitle} maxLength={256} required />
        <Field label="Author" value={author} onInput={setAuthor} maxLength={256} required />
        <button type="submit" class="primary" disabled={busy}>
          Add book
        </button>
      </form>
      <Notice message={message} />
    </section>
  );
}

function BookItem({ book, editable, onChanged }: { book: Book; editable: boolean; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(book.title);
  const [author, setAuthor] = useState(book.author);
  const [busy, message, run] = useAction();

  if (editing) {
    return (
      <li class="book">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const changes: Partial<Pick<Book, 'title' | 'author'>> = {};
              if (title !== book.title) changes.title = title;
              if (author !== book.author) changes.author = author;
              if (changes.title !== undefined || changes.author !== undefined) {
                await api.call<Book>('PATCH', `/bookapi/books/${book.id}`, changes);
                onChanged();
              }
              setEditing(false);
              return 'Saved.';
            });
          }}
        >
          <Field label="Title" value={title} onInput={setTitle} maxLength={256} required />
          <Field label="Author" value={author} onInput={setAuthor} maxLength={256} required />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
          <Notice message={message} />
        </form>
      </li>
    );
  }
  return (
    <li class="book">
      <div class="book-text">
        <span class="title">{book.title}</span>
        <span class="author">by {book.author}</span>
        <small class="muted">
          Added {when(book.created_at)}
          {book.updated_at !== book.created_at && `, changed ${when(book.updated_at)}`}
        </small>
      </div>
      {editable && (
        <div class="actions">
          <button
            type="button"
            aria-label={`Edit “${book.title}”`}
            onClick={() => {
              setTitle(book.title);
              setAuthor(book.author);
              setEditing(true);
            }}
          >
            Edit
          </button>
          <button
            type="button"
            class="danger"
            aria-label={`Delete “${book.title}”`}
            disabled={busy}
            onClick={async () => {
              if (
                !(await confirm(`Delete “${book.title}” by ${book.author}? This cannot be undone.`, 'Delete'))
              )
                return;
              const ok = await run(async () => {
                await api.call('DELETE', `/bookapi/books/${book.id}`);
                return undefined;
              });
              if (ok) onChanged();
            }}
          >
            Delete
          </button>
        </div>
      )}
      <Notice message={message} />
    </li>
  );
}
