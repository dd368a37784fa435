import { App, CloudFormationValidatePlugin } from 'aws-cdk-lib';

/** One plugin for the process: it keeps its engine (the rules, compiled) between calls. */
let plugin: CloudFormationValidatePlugin | undefined;

/**
 * What CloudFormation's validation finds in the templates at `paths`, one line
 * a finding: aws-cdk-lib's built-in plugin (resource schemas and its default
 * rules), which `cdk synth` runs after every synthesis.
 *
 * The tests turn that built-in run off (`CDK_VALIDATION=false`, set by the
 * global setup): with this project's `validateAgainstDefaultRules: false` it
 * only ever warns, never failing a test, and it cost about 2 s of CPU in
 * every process's first synthesis and 0.5 s in each one after, some 45 s a
 * run. This asks it directly, where a test asserts there is nothing to find.
 */
export function cloudFormationFindings(paths: readonly string[]): string[] {
  plugin ??= new CloudFormationValidatePlugin();
  const report = plugin.validate({
    templatePaths: [...paths],
    stackTemplates: paths.map((templatePath) => ({
      stackConstructPath: templatePath,
      templatePath,
      accountId: undefined,
      region: undefined,
    })),
    // Required by the interface; this plugin reads the templates only.
    appConstruct: new App(),
  });
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) =>
        `${violation.severity} ${violation.ruleName} at ${resource.resourceLogicalId ?? resource.templatePath}: ${violation.description}`,
    ),
  );
}
