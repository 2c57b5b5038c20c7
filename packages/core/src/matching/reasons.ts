// How a link's reason names things: short, quoted, and never more of a subject or file name than
// a person needs to recognise it (reasons are stored and shown in the CRM).
import type { RecordRef } from '../domain/schemas.js';

export function quote(text: string): string {
  return text.length > 120 ? `'${text.slice(0, 117)}…'` : `'${text}'`;
}

export function describeRecord(record: RecordRef): string {
  return record.label ?? record.id;
}
