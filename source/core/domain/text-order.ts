/**
 * `a.localeCompare(b)`, without ICU's collator for the strings the board is sorted by.
 *
 * The first `localeCompare` of a process builds the collator: ~14 ms of CPU, a visible share of
 * a one-shot `clawos status`, spent to order timestamps and ids. For strings of one of the shapes
 * below, code-unit order is the collator's order: their characters differ at the same positions
 * only as digits, lowercase letters, or ISO's separators in the same places, where the two
 * agree (digits before letters, `-` before digits, a shorter prefix first). Anything else, a
 * free-form id or an odd timestamp from the untrusted board, goes to `localeCompare` as before.
 * test/unit/core/domain/text-order.test.ts checks the shapes against `localeCompare`.
 */
const SHAPES: readonly RegExp[] = [
  // Date#toISOString and the same with other precisions: what every record's times are.
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/,
  // newTaskId's ids (the old seed form has no suffix).
  /^req_\d{8}_\d{6}(?:_[0-9a-f]{8})?$/,
  // Node ids.
  /^[a-z0-9-]*$/,
];

export function localeOrder(a: string, b: string): number {
  if (a === b) return 0;
  for (const shape of SHAPES) {
    if (shape.test(a) && shape.test(b)) return a < b ? -1 : 1;
  }
  return a.localeCompare(b);
}
