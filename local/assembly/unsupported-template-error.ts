/** A template this local stack cannot run. */
export class UnsupportedTemplateError extends Error {
  override readonly name = 'UnsupportedTemplateError';
  readonly code = 'unsupported_template';
}
