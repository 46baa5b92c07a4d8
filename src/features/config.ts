/**
 * Config section `schema`: the slots of an example (numeric and categorical, the Criteo
 * layout by default; src/features/schema.ts) and their embedding dims.
 */
import type { ConfigValues } from '../config/formats.ts';
import { criteoSlots } from './schema.ts';

const slots = criteoSlots();

/** Convict schema of `schema.*`. */
export const schemaConfig = {
  numeric: {
    doc: 'Numeric slots (also embedded through their Criteo bucket)',
    format: 'string-list',
    default: slots.numeric,
  },
  categorical: { doc: 'Categorical slots', format: 'string-list', default: slots.categorical },
  embeddingDim: {
    doc: 'Embedding dim D of every slot',
    format: 'positive-int',
    default: 16,
    env: 'LIONCTR_EMBEDDING_DIM',
  },
  dims: {
    doc: 'Per-slot embedding dim overrides {slot: D}',
    format: 'slot-dims',
    default: {} as Record<string, number>,
  },
};

/** The resolved `schema` section. */
export type SchemaSection = ConfigValues<typeof schemaConfig>;
