// Compares two V8 heap snapshots of one process (the soak's SOAK_SNAPSHOTS pair, or any two
// `v8.writeHeapSnapshot` files): what grew between them, by constructor and by object.
//
//   node --import tsx packages/reliability/scripts/diff-heap-snapshots.ts before.heapsnapshot after.heapsnapshot [top]
//
// Prints (1) count and self size per node type and constructor name, largest growth first, and
// (2) the objects present in both snapshots (V8 object ids are stable within a process) whose
// outgoing references grew most — a Map, Set, array or object that keeps accumulating — each with
// one retainer path to a GC root, so the owner in threadlink's code can be named. The files are
// read as bytes and only the string table is JSON-parsed: snapshots of a few hundred MB stay
// within V8's string limit.
import { readFileSync } from 'node:fs';

interface Snapshot {
  nodeFieldCount: number;
  edgeFieldCount: number;
  nodeTypes: string[];
  edgeTypes: string[];
  nodes: Float64Array;
  edges: Float64Array;
  strings: string[];
  /** Field offsets within a node / an edge. */
  field: { type: number; name: number; id: number; selfSize: number; edgeCount: number; edgeType: number; edgeName: number; toNode: number };
  /** First edge index of each node (prefix sums of edge_count). */
  firstEdge: Uint32Array;
}

/** The numbers of the JSON array that starts after `key` (`"nodes":[`), parsed straight from the bytes. */
function numberArray(bytes: Buffer, key: string): Float64Array {
  const start = bytes.indexOf(key);
  if (start < 0) throw new Error(`no ${key} in the snapshot`);
  const end = bytes.indexOf(']', start);
  const values: number[] = [];
  let current = 0;
  let inNumber = false;
  for (let index = start + key.length; index < end; index += 1) {
    const byte = bytes[index]!;
    if (byte >= 48 && byte <= 57) {
      current = current * 10 + (byte - 48);
      inNumber = true;
    } else if (inNumber) {
      values.push(current);
      current = 0;
      inNumber = false;
    }
  }
  if (inNumber) values.push(current);
  return Float64Array.from(values);
}

function load(path: string): Snapshot {
  const bytes = readFileSync(path);
  const metaEnd = bytes.indexOf('"nodes":[');
  const head = bytes.subarray(0, metaEnd).toString('utf8').replace(/,\s*$/, '');
  const meta = (
    JSON.parse(`${head}}`) as { snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] } } }
  ).snapshot.meta;
  const stringsStart = bytes.indexOf('"strings":[');
  const stringsText = bytes.subarray(stringsStart + '"strings":'.length).toString('utf8');
  const strings = JSON.parse(stringsText.slice(0, stringsText.lastIndexOf(']') + 1)) as string[];
  const nodes = numberArray(bytes, '"nodes":[');
  const edges = numberArray(bytes, '"edges":[');
  const nodeFieldCount = meta.node_fields.length;
  const edgeFieldCount = meta.edge_fields.length;
  const field = {
    type: meta.node_fields.indexOf('type'),
    name: meta.node_fields.indexOf('name'),
    id: meta.node_fields.indexOf('id'),
    selfSize: meta.node_fields.indexOf('self_size'),
    edgeCount: meta.node_fields.indexOf('edge_count'),
    edgeType: meta.edge_fields.indexOf('type'),
    edgeName: meta.edge_fields.indexOf('name_or_index'),
    toNode: meta.edge_fields.indexOf('to_node'),
  };
  const nodeCount = nodes.length / nodeFieldCount;
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let node = 0; node < nodeCount; node += 1) firstEdge[node + 1] = firstEdge[node]! + nodes[node * nodeFieldCount + field.edgeCount]!;
  return { nodeFieldCount, edgeFieldCount, nodeTypes: meta.node_types[0], edgeTypes: meta.edge_types[0], nodes, edges, strings, field, firstEdge };
}

const nodeCountOf = (snapshot: Snapshot): number => snapshot.nodes.length / snapshot.nodeFieldCount;
const typeOf = (snapshot: Snapshot, node: number): string => snapshot.nodeTypes[snapshot.nodes[node * snapshot.nodeFieldCount + snapshot.field.type]!]!;
const nameOf = (snapshot: Snapshot, node: number): string => snapshot.strings[snapshot.nodes[node * snapshot.nodeFieldCount + snapshot.field.name]!]!;
const labelOf = (snapshot: Snapshot, node: number): string => `${typeOf(snapshot, node)}:${nameOf(snapshot, node).slice(0, 80)}`;

function byConstructor(snapshot: Snapshot): Map<string, { count: number; size: number }> {
  const totals = new Map<string, { count: number; size: number }>();
  for (let node = 0; node < nodeCountOf(snapshot); node += 1) {
    const type = typeOf(snapshot, node);
    // Strings and numbers are grouped by type (their "name" is their value).
    const key = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' ? type : labelOf(snapshot, node);
    const total = totals.get(key) ?? { count: 0, size: 0 };
    total.count += 1;
    total.size += snapshot.nodes[node * snapshot.nodeFieldCount + snapshot.field.selfSize]!;
    totals.set(key, total);
  }
  return totals;
}

/**
 * Strong references of each node by V8 object id, counting through its backing stores (a Map's or
 * Set's hash table, an object's elements and properties arrays are separate nodes, replaced as
 * they grow, so the owner's own edge count would stay the same).
 */
function referencesById(snapshot: Snapshot): Map<number, { node: number; references: number }> {
  const result = new Map<number, { node: number; references: number }>();
  const weak = snapshot.edgeTypes.indexOf('weak');
  const internal = snapshot.edgeTypes.indexOf('internal');
  const hidden = snapshot.edgeTypes.indexOf('hidden');
  const array = snapshot.nodeTypes.indexOf('array');
  const strongEdges = (node: number, through: boolean): number => {
    let references = 0;
    for (let edge = snapshot.firstEdge[node]!; edge < snapshot.firstEdge[node + 1]!; edge += 1) {
      const base = edge * snapshot.edgeFieldCount;
      const edgeType = snapshot.edges[base + snapshot.field.edgeType]!;
      if (edgeType === weak) continue;
      const to = snapshot.edges[base + snapshot.field.toNode]! / snapshot.nodeFieldCount;
      if (through && (edgeType === internal || edgeType === hidden) && snapshot.nodes[to * snapshot.nodeFieldCount + snapshot.field.type] === array) {
        references += strongEdges(to, false);
      } else references += 1;
    }
    return references;
  };
  for (let node = 0; node < nodeCountOf(snapshot); node += 1) {
    if (snapshot.nodes[node * snapshot.nodeFieldCount + snapshot.field.type] === array) continue;
    result.set(snapshot.nodes[node * snapshot.nodeFieldCount + snapshot.field.id]!, { node, references: strongEdges(node, true) });
  }
  return result;
}

/** One path of strong references from a GC root to `target` (breadth-first from node 0). */
function retainerPath(snapshot: Snapshot, target: number): string {
  const parent = new Int32Array(nodeCountOf(snapshot)).fill(-1);
  const parentEdge = new Int32Array(nodeCountOf(snapshot)).fill(-1);
  const weak = snapshot.edgeTypes.indexOf('weak');
  const shortcut = snapshot.edgeTypes.indexOf('shortcut');
  const queue = [0];
  parent[0] = 0;
  for (let head = 0; head < queue.length && parent[target] === -1; head += 1) {
    const node = queue[head]!;
    for (let edge = snapshot.firstEdge[node]!; edge < snapshot.firstEdge[node + 1]!; edge += 1) {
      const base = edge * snapshot.edgeFieldCount;
      const edgeType = snapshot.edges[base + snapshot.field.edgeType]!;
      if (edgeType === weak || edgeType === shortcut) continue;
      const to = snapshot.edges[base + snapshot.field.toNode]! / snapshot.nodeFieldCount;
      if (parent[to] !== -1) continue;
      parent[to] = node;
      parentEdge[to] = edge;
      queue.push(to);
    }
  }
  if (parent[target] === -1) return '(unreachable)';
  const steps: string[] = [];
  for (let node = target; node !== 0; node = parent[node]!) {
    const base = parentEdge[node]! * snapshot.edgeFieldCount;
    const edgeType = snapshot.edgeTypes[snapshot.edges[base + snapshot.field.edgeType]!]!;
    const nameOrIndex = snapshot.edges[base + snapshot.field.edgeName]!;
    const edgeName = edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : `.${snapshot.strings[nameOrIndex]}`;
    steps.push(`${edgeName} → ${labelOf(snapshot, node)}`);
  }
  return steps.reverse().join('\n      ');
}

const [beforePath, afterPath, topText] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  console.error('usage: diff-heap-snapshots.ts before.heapsnapshot after.heapsnapshot [top]');
  process.exit(2);
}
const top = Number(topText ?? 25);
const before = load(beforePath);
const after = load(afterPath);

const beforeTotals = byConstructor(before);
const afterTotals = byConstructor(after);
const growth = [...new Set([...beforeTotals.keys(), ...afterTotals.keys()])].map((key) => {
  const was = beforeTotals.get(key) ?? { count: 0, size: 0 };
  const now = afterTotals.get(key) ?? { count: 0, size: 0 };
  return { key, count: now.count - was.count, size: now.size - was.size, countNow: now.count };
});
const sum = (totals: Map<string, { size: number }>): number => [...totals.values()].reduce((total, { size }) => total + size, 0);
console.log(
  `self size: ${(sum(beforeTotals) / 2 ** 20).toFixed(1)} MB → ${(sum(afterTotals) / 2 ** 20).toFixed(1)} MB; nodes ${nodeCountOf(before)} → ${nodeCountOf(after)}`,
);
console.log('\nby type:constructor, largest growth of self size first (Δcount, Δbytes, count now)');
for (const row of growth.sort((a, b) => b.size - a.size).slice(0, top))
  console.log(`  ${String(row.count).padStart(8)} ${String(row.size).padStart(11)} ${String(row.countNow).padStart(8)}  ${row.key}`);
console.log('\nby type:constructor, largest growth of count first');
for (const row of growth.sort((a, b) => b.count - a.count).slice(0, top))
  console.log(`  ${String(row.count).padStart(8)} ${String(row.size).padStart(11)} ${String(row.countNow).padStart(8)}  ${row.key}`);

const beforeReferences = referencesById(before);
const grown = [...referencesById(after)]
  .flatMap(([id, { node, references }]) => {
    const was = beforeReferences.get(id);
    return was && references > was.references ? [{ node, delta: references - was.references, references }] : [];
  })
  .sort((a, b) => b.delta - a.delta)
  .slice(0, Math.min(top, 15));
console.log('\nobjects in both snapshots whose strong references grew most (Δ, now), with one retainer path');
for (const { node, delta, references } of grown) {
  console.log(`  +${delta} (${references})  ${labelOf(after, node)}\n      ${retainerPath(after, node)}`);
}
