/**
 * The position key, owned here: `<source name>/<partition>` (e.g. `kafka:clicks/3`,
 * `file:/data/x.tsv/0`). Checkpoints (`sourceOffsets`), ResumePoint.nextOffsets, the audit
 * log and Kafka commits all key a partition's next offset by it (DESIGN.md "Ids, offsets and
 * exactly-once").
 */

/** The key of `partition` of the source named `source`. */
export const positionKey = (source: string, partition: number): string => `${source}/${partition}`;

/** True when `key` is a position key of the source named `source`. */
export const isKeyOf = (key: string, source: string): boolean => key.startsWith(`${source}/`);

/**
 * The partition of a position key (the number after the last `/`).
 * @returns NaN when the key does not end in a partition number.
 */
export const partitionOf = (key: string): number => {
  const tail = key.slice(key.lastIndexOf('/') + 1);
  return /^\d+$/.test(tail) ? Number(tail) : Number.NaN;
};
