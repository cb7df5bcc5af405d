// errors.ts holds the one error type of the template engine.

/** TemplateError carries Go's message, e.g. `template: name:1: function "foo" not defined`. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}
