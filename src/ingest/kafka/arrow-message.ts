/**
 * @module `kafka.format=arrow`: one Kafka message holds an Arrow IPC stream (or file) of one or
 * more record batches, its columns read as an Arrow input file's are (src/ingest/arrow-records.ts:
 * `label`, optional `ts`, the slots by name, the schema.weight column). Every row of the message
 * gets the message's offset; the message is the unit of position, so the source never splits one
 * message's rows across two training batches (source.ts).
 */
import { tableFromIPC } from 'apache-arrow';
import { arrowColumnMap, decodeArrowRow } from '../arrow-records.ts';
import { badInput } from '../decode-util.ts';
import type { DecodedRow, SlotSchema } from '../source.ts';

/**
 * Returns a decoder of Arrow IPC message values into their rows, in order.
 * @param weight the sample-weight column (schema.weight); '' = none.
 * @throws LionctrError LIONCTR_BAD_INPUT naming `where` (and the row): `bad_arrow` (the bytes are
 *   not Arrow IPC), `empty` (no rows), the column faults of arrowColumnMap (`missing_label`,
 *   `bad_header`, `wrong_type`) and the first bad row's reason (`bad_label`, `bad_number`,
 *   `bad_timestamp`, `bad_weight`): one bad row makes the whole message bad (it is dead-lettered whole).
 */
export function createArrowMessageDecoder(
  schema: SlotSchema,
  weight = '',
): (value: Uint8Array, where: string) => DecodedRow[] {
  return (value, where) => {
    let table: ReturnType<typeof tableFromIPC>;
    try {
      table = tableFromIPC(value);
    } catch (e) {
      throw badInput('bad_arrow', `message is not an Arrow IPC stream: ${(e as Error)?.message ?? e}`, where, e);
    }
    if (table.numRows === 0) throw badInput('empty', 'Arrow message holds no rows', where);
    const map = arrowColumnMap(table.schema, schema, where, undefined, weight);
    const names = table.schema.fields.map((f) => f.name);
    const out: DecodedRow[] = [];
    for (const batch of table.batches) {
      const cols = names.map((_, i) => batch.getChildAt(i)!);
      for (let r = 0; r < batch.numRows; r++)
        out.push(decodeArrowRow(cols, map, names, r, `${where} row ${out.length + 1}`));
    }
    return out;
  };
}
