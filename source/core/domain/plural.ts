/** "1 task", "0 tasks", "3 tasks": a count and its noun, in proper English (never "task(s)"). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
