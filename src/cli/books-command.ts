import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { type ExportFormat, exportBooks } from '../books/transfer/exporter.js';
import { ImportRefused, importBooks } from '../books/transfer/importer.js';
import { formatOf, type ImportFormat, MalformedFile, openRecords } from '../books/transfer/records.js';
import { systemClock } from '../clock.js';
import { withDatabase } from './database.js';
import { examples } from './examples.js';
import { progress } from './progress.js';
import { UsageError } from './run.js';

export function registerBooks(program: Command): void {
  const books = program
    .command('books')
    .description('bulk import and export of the catalogue')
    .addHelpText(
      'after',
      examples('bookapi books import catalogue.csv --owner root', 'bookapi books export --out backup.csv'),
    );

  books
    .command('import')
    .description(
      'import books from a CSV, JSON array or NDJSON file, with the API’s validation and duplicate rule',
    )
    .argument('<file>', 'the file to import (.csv with a header row, .json, .ndjson/.jsonl)')
    .option('-o, --owner <username>', 'owner of every book (otherwise each record’s "owner" column)')
    .option('-f, --format <format>', 'csv, json or ndjson (default: from the file extension)')
    .option('--skip-invalid', 'import the valid records and report the others (default: all or nothing)')
    .option('--batch-size <n>', 'records per insert (and per commit with --skip-invalid)', '500')
    .addHelpText(
      'after',
      `
Records have a title and an author (and an owner, unless --owner is given). Each rejected record
is reported on stderr with its line number (item number in a JSON array) and the reason. By default
one rejected record means nothing is imported (exit code 1); --skip-invalid keeps the rest.

Examples:
  $ bookapi books import catalogue.csv --owner root
  $ bookapi books import export.ndjson --skip-invalid`,
    )
    .action(
      (
        file: string,
        options: { owner?: string; format?: string; skipInvalid?: boolean; batchSize: string },
      ) => importCommand(file, options),
    );

  books
    .command('export')
    .description('write every book (title, author, owner) as CSV or NDJSON; the output imports back')
    .option('-f, --format <format>', 'csv or ndjson', 'csv')
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ bookapi books export --out catalogue.csv
  $ bookapi books export --format ndjson | gzip > books.ndjson.gz`,
    )
    .action(async (options: { format: string; out?: string }) => {
      const format = options.format;
      if (format !== 'csv' && format !== 'ndjson') throw new UsageError('--format must be csv or ndjson');
      const out = options.out ? fs.createWriteStream(options.out) : process.stdout;
      // `bookapi books export | head` closes the pipe early: that is the reader's choice, not a failure.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0);
      });
      const count = await withDatabase((db) => exportBooks(db, out, format as ExportFormat));
      if (options.out) {
        out.end();
        await finished(out);
        process.stderr.write(`exported ${count} books to ${options.out}\n`);
      }
    });
}

async function importCommand(
  file: string,
  options: { owner?: string; format?: string; skipInvalid?: boolean; batchSize: string },
): Promise<void> {
  const format = (options.format ?? formatOf(file)) as ImportFormat | undefined;
  if (format !== 'csv' && format !== 'json' && format !== 'ndjson') {
    throw new UsageError(`cannot tell the format of ${file}: pass --format csv, json or ndjson`);
  }
  const batchSize = /^\d{1,5}$/.test(options.batchSize) ? Number(options.batchSize) : 0;
  if (batchSize < 1 || batchSize > 5000) throw new UsageError('--batch-size must be from 1 to 5000');
  if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist`);

  const source = openRecords(file, format);
  const bar = progress(source.size, source.bytesRead);
  const result = await withDatabase((db) =>
    importBooks(db, source.records, {
      owner: options.owner,
      skipInvalid: options.skipInvalid === true,
      batchSize,
      now: new Date(systemClock.now()).toISOString(),
      onRejected: (where, reason) => process.stderr.write(`${file}: ${where}: ${reason}\n`),
      onProgress: (rows, rejected) => bar.update(rows, rejected),
    }),
  ).catch((error: unknown) => {
    bar.stop();
    if (error instanceof ImportRefused) throw new UsageError(error.message);
    if (error instanceof MalformedFile) {
      throw new Error(`${file} cannot be read as ${format}: ${error.message} (nothing more was imported)`);
    }
    throw error;
  });
  bar.stop();
  if (!result.committed) {
    throw new Error(
      `nothing imported: ${result.rejected} record${result.rejected === 1 ? '' : 's'} rejected (listed above); fix them, or pass --skip-invalid to import the rest`,
    );
  }
  const rejected = result.rejected > 0 ? `, ${result.rejected} rejected (listed above)` : '';
  process.stderr.write(`imported ${result.imported} books from ${file}${rejected}\n`);
}
