// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Fn::Sub templates, not JavaScript ones.
import { describe, expect, it } from 'vitest';
import {
  type Resolution,
  resolve,
  resolveString,
  UnresolvableError,
} from '../../../local/assembly/intrinsics.js';

const RESOLUTION: Resolution = {
  refs: {
    'AWS::Region': 'us-east-1',
    'AWS::URLSuffix': 'amazonaws.com',
    Table: 'TableLocal',
    Api: 'local',
  },
  attributes: {
    'Table.Arn': 'arn:aws:dynamodb:us-east-1:000000000000:table/TableLocal',
    'Fn.Arn': 'arn:aws:lambda:us-east-1:000000000000:function:Fn',
  },
};

/** The error `run` throws, failing when it throws none. */
function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('resolveString', () => {
  it('resolves a Ref to a logical id', () => {
    expect(resolveString({ Ref: 'Table' }, RESOLUTION)).toBe('TableLocal');
  });

  it('resolves a Ref to a pseudo parameter', () => {
    expect(resolveString({ Ref: 'AWS::Region' }, RESOLUTION)).toBe('us-east-1');
  });

  it('resolves Fn::GetAtt in its array form', () => {
    expect(resolveString({ 'Fn::GetAtt': ['Fn', 'Arn'] }, RESOLUTION)).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:Fn',
    );
  });

  it('resolves Fn::GetAtt in its dotted string form', () => {
    expect(resolveString({ 'Fn::GetAtt': 'Table.Arn' }, RESOLUTION)).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/TableLocal',
    );
  });

  it('joins the resolved parts of Fn::Join with its separator', () => {
    const value = { 'Fn::Join': ['.', [{ Ref: 'Api' }, 'execute-api', { Ref: 'AWS::Region' }]] };

    expect(resolveString(value, RESOLUTION)).toBe('local.execute-api.us-east-1');
  });

  it('substitutes references and attributes in Fn::Sub without variables', () => {
    const value = { 'Fn::Sub': 'https://${Api}.execute-api.${AWS::Region}/${Fn.Arn}' };

    expect(resolveString(value, RESOLUTION)).toBe(
      'https://local.execute-api.us-east-1/arn:aws:lambda:us-east-1:000000000000:function:Fn',
    );
  });

  it('substitutes its own variables first in Fn::Sub with variables', () => {
    const value = { 'Fn::Sub': ['${Table}/${Suffix}', { Suffix: { Ref: 'AWS::URLSuffix' } }] };

    expect(resolveString(value, RESOLUTION)).toBe('TableLocal/amazonaws.com');
  });

  it('lets a Fn::Sub variable shadow a reference of the same name', () => {
    const value = { 'Fn::Sub': ['${Table}', { Table: 'shadowed' }] };

    expect(resolveString(value, RESOLUTION)).toBe('shadowed');
  });

  it('resolves nested intrinsics', () => {
    const value = {
      'Fn::Join': [
        '',
        [
          'wss://',
          { 'Fn::Sub': ['${Id}.execute-api', { Id: { Ref: 'Api' } }] },
          '.',
          { Ref: 'AWS::Region' },
        ],
      ],
    };

    expect(resolveString(value, RESOLUTION)).toBe('wss://local.execute-api.us-east-1');
  });

  it('returns a literal string as it is', () => {
    expect(resolveString('plain', RESOLUTION)).toBe('plain');
  });

  it.each([
    [{ Ref: 'Missing' }, 'Missing'],
    [{ 'Fn::GetAtt': ['Missing', 'Arn'] }, 'Missing.Arn'],
    [{ 'Fn::Sub': 'x-${Missing}' }, 'Missing'],
    [{ 'Fn::Join': ['', ['a', { Ref: 'Nested' }]] }, 'Nested'],
  ])('throws UnresolvableError naming an unknown reference (%j)', (value, name) => {
    const error = errorOf(() => resolveString(value, RESOLUTION));

    expect(error).toBeInstanceOf(UnresolvableError);
    expect(error).toMatchObject({ code: 'unresolvable', name: 'UnresolvableError' });
    expect((error as Error).message).toContain(name);
  });

  // CloudFormation renders ${!Literal} as ${Literal} (Fn::Sub reference).
  it('renders an escaped ${!Literal} in Fn::Sub as ${Literal}', () => {
    expect(resolveString({ 'Fn::Sub': '${!Literal}-${Api}' }, RESOLUTION)).toBe('${Literal}-local');
  });
});

describe('resolve', () => {
  it('resolves intrinsics inside objects and arrays, leaving other values alone', () => {
    const value = { name: { Ref: 'Table' }, list: [1, { 'Fn::GetAtt': ['Fn', 'Arn'] }], on: true };

    expect(resolve(value, RESOLUTION)).toEqual({
      name: 'TableLocal',
      list: [1, 'arn:aws:lambda:us-east-1:000000000000:function:Fn'],
      on: true,
    });
  });
});
