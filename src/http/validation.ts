import { Ajv, type Options } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// Fastify's defaults, minus coercion where it would hide client mistakes.
const common: Options = {
  useDefaults: true,
  removeAdditional: true, // with additionalProperties: false, unknown fields are dropped
  addUsedSchema: false,
  allErrors: false, // all errors on a hostile body is a known DoS
};

/** JSON bodies already carry types: 12345 is not a username, ["x"] is not a password. */
const bodyAjv = new Ajv({ ...common, coerceTypes: false });
/** Query strings and path params are text: "20" must become the integer 20. */
const textAjv = new Ajv({ ...common, coerceTypes: 'array' });

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;
addFormats(bodyAjv);
addFormats(textAjv);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
