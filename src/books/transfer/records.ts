import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import streamArray from 'stream-json/streamers/stream-array.js';

export type ImportFormat = 'csv' | 'json' | 'ndjson';

/** One record of an import file and where it was: a line number, or the item's position in a JSON array. */
export interface SourceRecord {
  where: string;
  value: unknown;
}

export interface RecordSource {
  records: AsyncIterable<SourceRecord>;
  /** Bytes of the file read so far, and its size: the progress bar's measure. */
  bytesRead(): number;
  size: number;
}

/** csv, json or ndjson from the file name: .csv, .json, .ndjson / .jsonl. */
export function formatOf(file: string): ImportFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  return undefined;
}

/**
 * Streams the records of an import file: memory stays flat whatever its
 * size. CSV needs a header row (title, author, optionally owner).
 */
export function openRecords(file: string, format: ImportFormat): RecordSource {
  const size = fs.statSync(file).size;
  const input = fs.createReadStream(file);
  // Nothing may listen for 'data' before the parser is piped in (it would start the flow and drop
  // what it read): the stream's own byte count measures progress.
  const records = namingParseErrors(
    format === 'csv' ? csvRecords(input) : format === 'ndjson' ? ndjsonRecords(input) : jsonRecords(input),
  );
  return { records, bytesRead: () => input.bytesRead, size };
}

async function* csvRecords(input: fs.ReadStream): AsyncIterable<SourceRecord> {
  const parser = input.pipe(
    parse({
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: unknown;
    info: { lines: number };
  }>) {
    yield { where: `line ${info.lines}`, value: record };
  }
}

async function* ndjsonRecords(input: fs.ReadStream): AsyncIterable<SourceRecord> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = new MalformedRecord('not valid JSON');
    }
    yield { where: `line ${line}`, value };
  }
}

async function* jsonRecords(input: fs.ReadStream): AsyncIterable<SourceRecord> {
  const items = input.pipe(streamArray.withParserAsStream());
  for await (const { key, value } of items as AsyncIterable<{ key: number; value: unknown }>) {
    yield { where: `item ${key + 1}`, value };
  }
}

/** The file as a whole cannot be parsed (not a JSON array, unbalanced CSV quotes…). */
export class MalformedFile extends Error {
  override name = 'MalformedFile';
}

async function* namingParseErrors(records: AsyncIterable<SourceRecord>): AsyncIterable<SourceRecord> {
  try {
    yield* records;
  } catch (error) {
    throw new MalformedFile(error instanceof Error ? error.message : String(error));
  }
}

/** A record that could not even be parsed; the importer reports it like any invalid row. */
export class MalformedRecord {
  constructor(readonly reason: string) {}
}
