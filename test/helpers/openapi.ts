import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: { schemas: Record<string, object> };
}

/**
 * Checks responses against the service's own OpenAPI document: the status must be documented for the
 * operation and the body must match the schema of its content type. Unknown routes must be problems.
 */
export class OpenApiResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: { pattern: RegExp; path: string }[];

  constructor(private readonly document: OpenApiDocument) {
    addFormats.default(this.ajv);
    this.routes = Object.keys(document.paths).map((path) => ({
      path,
      pattern: new RegExp(`^${path.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    }));
  }

  /** Returns a list of problems; empty when the response matches the document. */
  check(method: string, url: string, status: number, contentType: string | undefined, body: string): string[] {
    const path = url.split('?', 1)[0] ?? '/';
    const route = this.routes.find((candidate) => candidate.pattern.test(path));
    const operation = route ? this.document.paths[route.path]?.[method.toLowerCase()] : undefined;
    const mediaType = (contentType ?? '').split(';', 1)[0]!.trim();
    let schema: object | undefined;
    let key: string;
    if (!operation || method === 'HEAD') {
      // Undocumented routes (404, 405) and HEAD: only error bodies are checked, as problems.
      if (status < 400 || method === 'HEAD') return [];
      schema = { $ref: '#/components/schemas/Problem' };
      key = 'problem';
    } else {
      const response = operation.responses[String(status)];
      if (!response) return [`${method} ${route!.path}: status ${status} is not documented`];
      if (!response.content && body === '') return []; // a documented empty response, such as 304
      schema = response.content?.[mediaType]?.schema;
      if (!schema) return [`${method} ${route!.path} ${status}: content type ${mediaType} is not documented`];
      key = `${method} ${route!.path} ${status} ${mediaType}`;
    }
    let validate = this.validators.get(key);
    if (!validate) {
      // The document's components ride along so that its `#/components/schemas/...` references resolve.
      validate = this.ajv.compile({ ...schema, components: this.document.components });
      this.validators.set(key, validate);
    }
    let parsed: unknown = body;
    // A text body (the export's CSV or NDJSON) is checked as the string its schema describes.
    if (key === 'problem' || /[/+]json$/.test(mediaType)) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return [`${key}: body is not JSON`];
      }
    }
    return validate(parsed) ? [] : [`${key}: ${this.ajv.errorsText(validate.errors)}`];
  }
}
