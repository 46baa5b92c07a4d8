/**
 * Typed events (as kafkajs's `src/consumer/instrumentationEvents.js`, with types): a module
 * declares its events as one table `{ name: payload type }`, and its emitter is a Node
 * EventEmitter over that table, so a misspelt name or a wrong payload, at `emit` or at `on`,
 * is a type error. Every event carries exactly one payload argument.
 */
import type { EventEmitter } from 'node:events';

/** An events table `{ name: payload }` as Node's EventEmitter map `{ name: [payload] }`. */
export type EventArgs<E> = { [K in keyof E]: [E[K]] };

/** A Node EventEmitter whose events are the table `E` (a class extends `EventEmitter<EventArgs<E>>`). */
export type TypedEmitter<E> = EventEmitter<EventArgs<E>>;
