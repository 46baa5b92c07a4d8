/**
 * The answer to a request that reaches the prediction endpoint after its drain period, while it
 * closes (src/serve/http-server.ts): 503 with `Connection: close`, in the API's error shape
 * (`{"error", "code"}`, errors.ts LIONCTR_NOT_READY). fastify's return503OnClosing would answer
 * its own `{"error":"Service Unavailable","message":...,"statusCode":503}`.
 */
import type { ServerResponse } from 'node:http';

const BODY = JSON.stringify({
  error: 'the server is shutting down: send the request to another instance',
  code: 'LIONCTR_NOT_READY',
});

/** Writes the closing answer on `res` with the configured extra response headers. */
export function answerClosing(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(503, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(BODY),
    connection: 'close',
    ...headers,
  });
  res.end(BODY);
}
