import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Format } from '@cache/core';
import { type JsonDocument, jsonDocuments } from '../data/documents.js';
import type { Case, Contender, Prepared, Suite } from '../harness/types.js';

/** Distinct documents per size, walked in turn: a power of two, so ops pick one with a mask. */
const DOCS = 16;
const MASK = DOCS - 1;
const SIZES = [
  { label: '1 KB', bytes: 1024 },
  { label: '100 KB', bytes: 100 * 1024 },
] as const;

type Direction = 'serialize' | 'deserialize';

/** A way to turn a document into bytes and back; `setup` resolves the library. */
interface Codec {
  readonly name: string;
  readonly role: Contender['role'];
  readonly note: string;
  load(): Promise<{ encode: (value: unknown) => Uint8Array; decode: (bytes: Uint8Array) => unknown }>;
}

/**
 * cbor-x is a dependency of @cache/formats, not of the bench: resolve it from there, so the bare library row uses
 * the very copy ours wraps.
 */
interface CborX {
  Encoder: new (options: {
    useRecords: boolean;
  }) => {
    encode(value: unknown): Uint8Array;
    decode(bytes: Uint8Array): unknown;
  };
}

async function cborX(): Promise<CborX> {
  const require = createRequire(import.meta.resolve('@cache/formats'));
  return import(pathToFileURL(require.resolve('cbor-x')).href);
}

function ours(id: 'json' | 'cbor'): Codec {
  return {
    name: `@cache/formats ${id}`,
    role: 'ours',
    note:
      id === 'json'
        ? '`json`: `JSON.stringify` to UTF-8 bytes, and a fatal UTF-8 decode before `JSON.parse`.'
        : '`cbor`: cbor-x without records or shared structures, the self-described tag d9 d9 f7, a structural ' +
          'check of the bytes before decoding (tags, keys, lengths) and of its own output, and a copy out of ' +
          "cbor-x's reused buffer.",
    async load() {
      const formats = await import('@cache/formats');
      const format: Format = formats[id];
      return { encode: (value) => format.serialize(value), decode: (bytes) => format.deserialize(bytes) };
    },
  };
}

const bareJson: Codec = {
  name: 'JSON + TextEncoder',
  role: 'reference',
  note: '`new TextEncoder().encode(JSON.stringify(doc))` and `JSON.parse(new TextDecoder().decode(bytes))`: the bare bar.',
  async load() {
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    return {
      encode: (value) => encoder.encode(JSON.stringify(value)),
      decode: (bytes) => JSON.parse(decoder.decode(bytes)),
    };
  },
};

function bareCborX(records: boolean): Codec {
  return {
    name: records ? 'cbor-x 1.6, useRecords: true' : 'cbor-x 1.6',
    role: 'variant',
    note: records
      ? 'cbor-x with its record extension (`new Encoder({ useRecords: true })`): smaller and faster to decode, ' +
        'but cbor-x-only tags, readers compiled with `new Function`, which ours refuses to read.'
      : 'bare cbor-x (`new Encoder({ useRecords: false })`): no marker, no checks, output is a view into its reused ' +
        'buffer: what ours costs on top of it.',
    async load() {
      const { Encoder } = await cborX();
      const encoder = new Encoder({ useRecords: records });
      return { encode: (value) => encoder.encode(value), decode: (bytes) => encoder.decode(bytes) };
    },
  };
}

const CODECS: readonly Codec[] = [ours('json'), ours('cbor'), bareJson, bareCborX(false), bareCborX(true)];

function contender(codec: Codec, direction: Direction, docs: readonly JsonDocument[]): Contender {
  return {
    name: codec.name,
    role: codec.role,
    note: codec.note,
    async setup(): Promise<Prepared> {
      const { encode, decode } = await codec.load();
      if (direction === 'serialize') return { async: false, op: (i) => encode(docs[i & MASK]) };
      const encoded = docs.map((doc) => encode(doc).slice());
      return { async: false, op: (i) => decode(encoded[i & MASK] as Uint8Array) };
    },
  };
}

/** Output size of each codec for each document size, filled in when the cases are built. */
const sizeLines: string[] = [];

async function formatCases(): Promise<Case[]> {
  sizeLines.length = 0;
  sizeLines.push('| document | ' + CODECS.map((c) => c.name).join(' | ') + ' |');
  sizeLines.push(`|---|${CODECS.map(() => '--:').join('|')}|`);
  const cases: Case[] = [];
  for (const { label, bytes } of SIZES) {
    const docs = jsonDocuments(DOCS, bytes);
    const sizes: string[] = [];
    for (const codec of CODECS) {
      const { encode } = await codec.load();
      const mean = docs.reduce((sum, doc) => sum + encode(doc).length, 0) / docs.length;
      sizes.push(`${Math.round(mean).toLocaleString('en-US')} B`);
    }
    sizeLines.push(`| ${label} | ${sizes.join(' | ')} |`);
    for (const direction of ['serialize', 'deserialize'] as const) {
      cases.push({
        name: `${direction} ${label}`,
        timing: { kind: 'batched' },
        expect: 'defined',
        contenders: CODECS.map((codec) => contender(codec, direction, docs)),
      });
    }
  }
  return cases;
}

/** Value formats: JSON and CBOR, ours against the bare libraries. */
export const formatsSuite: Suite = {
  id: 'formats',
  title: 'value formats, serialize and deserialize',
  get description(): string {
    return [
      `${DOCS} JSON-like documents (user profiles with an item list, \`src/data/documents.ts\`) of about 1 KB and ` +
        '100 KB of JSON text each, walked in turn. serialize: document to bytes; deserialize: bytes (made ' +
        'before timing by the same contender) to a document. Mean output size per document:',
      '',
      ...sizeLines,
    ].join('\n');
  },
  cases: formatCases,
};
