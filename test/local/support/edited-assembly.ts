import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_ID } from '../../../lib/realtime-app.js';

/** The parts of a synthesized template the edits touch. */
export interface Template {
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: Record<string, unknown>;
      Metadata?: Record<string, unknown>;
    }
  >;
}

/** A policy statement as synthesized, intrinsics unresolved. */
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** A copy of an assembly whose template was edited; the bundles are the original's. */
export interface EditedAssembly {
  readonly outdir: string;
  remove(): void;
}

/**
 * Copies the assembly in `outdir` with its template changed by `edit`: the
 * bundles and the rest are linked, not copied, so it costs nothing to make.
 */
export function editedAssembly(outdir: string, edit: (template: Template) => void): EditedAssembly {
  const copy = mkdtempSync(join(tmpdir(), 'realtime-edited-'));
  const templateFile = `${STACK_ID}.template.json`;
  for (const entry of readdirSync(outdir)) {
    if (entry !== templateFile) symlinkSync(join(outdir, entry), join(copy, entry));
  }
  const template = JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as Template;
  edit(template);
  writeFileSync(join(copy, templateFile), JSON.stringify(template, null, 1));
  return { outdir: copy, remove: () => rmSync(copy, { recursive: true, force: true }) };
}

/** The logical id of the function whose construct id is `name` (`SendHandler`). */
export function functionId(template: Template, name: string): string {
  const found = Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Function' &&
      String(resource.Metadata?.['aws:cdk:path'] ?? '').endsWith(`/${name}/Resource`),
  );
  if (found === undefined) throw new Error(`no function ${name} in the template`);
  return found[0];
}

/** The statements of the policies attached to the role of function `name`; each is editable in place. */
export function statementsOf(template: Template, name: string): Statement[] {
  const fn = template.Resources[functionId(template, name)];
  const role = (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.[
    'Fn::GetAtt'
  ][0];
  return Object.values(template.Resources).flatMap((resource) => {
    const properties = resource.Properties ?? {};
    const roles = (properties.Roles ?? []) as { Ref?: string }[];
    if (resource.Type !== 'AWS::IAM::Policy' || !roles.some((ref) => ref.Ref === role)) return [];
    return (properties.PolicyDocument as { Statement: Statement[] }).Statement;
  });
}

/**
 * Removes `action` from every statement of function `name`'s policies, and
 * the statements left with no action; fails when no statement granted it.
 */
export function removeAction(template: Template, name: string, action: string): void {
  let removed = 0;
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const document = resource.Properties?.PolicyDocument as { Statement: Statement[] } | undefined;
    if (document === undefined) continue;
    const own = statementsOf(template, name);
    document.Statement = document.Statement.flatMap((statement) => {
      if (!own.includes(statement)) return [statement];
      const actions = [statement.Action].flat();
      const kept = actions.filter((candidate) => candidate !== action);
      removed += actions.length - kept.length;
      if (kept.length === 0) return [];
      return [{ ...statement, Action: kept.length === 1 ? (kept[0] as string) : kept }];
    });
  }
  if (removed === 0) throw new Error(`${name} had no grant of ${action}`);
}

/** Removes the statements of function `name`'s policies that `predicate` picks; fails when none is. */
export function removeStatements(
  template: Template,
  name: string,
  predicate: (statement: Statement) => boolean,
): void {
  const own = new Set(statementsOf(template, name));
  let removed = 0;
  for (const resource of Object.values(template.Resources)) {
    const document = resource.Properties?.PolicyDocument as { Statement: Statement[] } | undefined;
    if (resource.Type !== 'AWS::IAM::Policy' || document === undefined) continue;
    const kept = document.Statement.filter(
      (statement) => !(own.has(statement) && predicate(statement)),
    );
    removed += document.Statement.length - kept.length;
    document.Statement = kept;
  }
  if (removed === 0) throw new Error(`${name} had no such statement`);
}
