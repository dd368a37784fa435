import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The ids of `construct`'s path below its stack, the construct's own last (`['Chat', 'Data']`). */
export function pathInStack(construct: IConstruct): string[] {
  const scopes = construct.node.scopes;
  return scopes.slice(scopes.indexOf(Stack.of(construct)) + 1).map((scope) => scope.node.id);
}
