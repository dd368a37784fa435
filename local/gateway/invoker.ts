/** The outcome of invoking a local function, as the gateway sees it. */
export type Invocation =
  | { readonly ok: true; readonly result: unknown }
  | {
      readonly ok: false;
      readonly error: { readonly kind: string; readonly name: string; readonly message: string };
    };

/** Invokes the function with this logical id. */
export type Invoker = (functionId: string, event: unknown) => Promise<Invocation>;
