/**
 * Test data shared by the cases: JSON-like documents of a chosen size, the same on every run (seeded), so
 * every contender and every run stores the same values. Build them outside timed loops.
 */

/** A small deterministic generator (mulberry32), so documents do not depend on Math.random. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const WORDS = [
  'alpha',
  'bravo',
  'cache',
  'delta',
  'ember',
  'fjord',
  'gamma',
  'harbor',
  'index',
  'jolt',
  'kite',
];

/** A user-profile-like document; its JSON text is about `bytes` long (never shorter). */
export type JsonDocument = {
  id: number;
  name: string;
  email: string;
  active: boolean;
  score: number;
  createdAt: string;
  tags: string[];
  address: { street: string; city: string; zip: string; country: string };
  items: { sku: string; quantity: number; price: number; note: string }[];
};

/** Document number `index`, about `bytes` bytes of JSON (1 KB by default). */
export function jsonDocument(index: number, bytes = 1024): JsonDocument {
  const random = generator(index + 1);
  const word = () => WORDS[Math.floor(random() * WORDS.length)] as string;
  const doc: JsonDocument = {
    id: index,
    name: `${word()} ${word()}`,
    email: `user${index}@example.test`,
    active: random() < 0.7,
    score: Math.round(random() * 10_000) / 100,
    createdAt: new Date(1_700_000_000_000 + Math.floor(random() * 1e10)).toISOString(),
    tags: [word(), word(), word()],
    address: {
      street: `${Math.floor(random() * 999)} ${word()} street`,
      city: word(),
      zip: '75001',
      country: 'FR',
    },
    items: [],
  };
  let size = JSON.stringify(doc).length;
  while (size < bytes) {
    const item = {
      sku: `sku-${Math.floor(random() * 1e6)}`,
      quantity: 1 + Math.floor(random() * 9),
      price: Math.round(random() * 100_000) / 100,
      note: `${word()} ${word()} ${word()}`,
    };
    doc.items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return doc;
}

/** `count` documents of about `bytes` bytes each. */
export function jsonDocuments(count: number, bytes = 1024): JsonDocument[] {
  return Array.from({ length: count }, (_, i) => jsonDocument(i, bytes));
}
