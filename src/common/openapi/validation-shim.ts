import { getMetadataStorage } from 'class-validator';

/** The fields of class-validator's ValidationMetadata this shim reads (the class is not exported). */
interface ValidationMetadata {
  name?: string;
  propertyName: string;
  constraints: unknown[];
  each: boolean;
  groups?: string[];
}

/**
 * Copies class-validator constraints into the Swagger property metadata of every DTO, at run time,
 * before the document is built: what the `@nestjs/swagger` CLI plugin's `classValidatorShim` does at
 * compile time, but here in every way the app runs (nest build, Jest through SWC, `npm run openapi`
 * through @swc-node), so the document served is the document tested and written. The plugin is
 * not used: it only ran under `nest build`, so tests and `npm run openapi` saw another document.
 *
 * Explicit `@ApiProperty` options win over what is derived here, except two facts the validator
 * owns: `@IsOptional()` makes a property optional (a field with a server default must not be
 * required by generated clients) and `@IsInt()` makes a number an `integer`.
 */
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';
const API_MODEL_PROPERTIES_ARRAY = 'swagger/apiModelPropertiesArray';

type Options = Record<string, unknown>;

const SCALAR_TYPES = new Set<unknown>([String, Number, Boolean, Date]);

/** What each class-validator constraint says about the value, as OpenAPI keywords. */
function keywordsOf(meta: ValidationMetadata): Options | undefined {
  const [a, b] = meta.constraints ?? [];
  switch (meta.name) {
    case 'isEmail':
      return { format: 'email' };
    case 'isUuid':
      return { format: 'uuid' };
    case 'isUrl':
      return { format: 'uri' };
    case 'isIso8601':
      return { format: 'date-time' };
    case 'isIp':
      return { format: a === '4' || a === 4 ? 'ipv4' : a === '6' || a === 6 ? 'ipv6' : undefined };
    case 'maxLength':
      return { maxLength: a };
    case 'minLength':
      return { minLength: a };
    case 'isLength':
      return { minLength: a, maxLength: b };
    case 'isNotEmpty':
      return { minLength: 1 };
    case 'matches':
      return { pattern: a instanceof RegExp ? a.source : String(a) };
    case 'min':
      return { minimum: a };
    case 'max':
      return { maximum: a };
    case 'isIn':
      return Array.isArray(a) ? { enum: a } : undefined;
    default:
      return undefined;
  }
}

function arrayKeywordsOf(meta: ValidationMetadata): Options | undefined {
  const [a] = meta.constraints ?? [];
  switch (meta.name) {
    case 'arrayMaxSize':
      return { maxItems: a };
    case 'arrayMinSize':
      return { minItems: a };
    case 'arrayUnique':
      return { uniqueItems: true };
    default:
      return undefined;
  }
}

const defined = (o: Options): Options => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Applies the shim to every class class-validator knows. Idempotent: safe to call per document. */
export function applyValidationShim(): void {
  const storage = getMetadataStorage() as unknown as {
    validationMetadatas: Map<Function | string, ValidationMetadata[]>;
  };
  for (const [target, metas] of storage.validationMetadatas) {
    if (typeof target !== 'function') continue;
    const byProperty = new Map<string, ValidationMetadata[]>();
    for (const m of metas) byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
    for (const [property, list] of byProperty) shimProperty(target.prototype as object, property, list);
  }
}

function shimProperty(prototype: object, property: string, list: ValidationMetadata[]): void {
  const existing = Reflect.getMetadata(API_MODEL_PROPERTIES, prototype, property) as Options | undefined;
  const designType: unknown = Reflect.getMetadata('design:type', prototype, property);
  // A property only the validator knows is documented when its type is plain; others need an
  // explicit @ApiProperty (nested DTOs, arrays of objects).
  if (!existing && !SCALAR_TYPES.has(designType)) return;

  const isArray = existing ? existing.isArray === true || existing.type === 'array' : false;
  const derived: Options = {};
  let items: Options = {};
  for (const m of list) {
    if (m.groups?.length) continue;
    const arrayKeywords = arrayKeywordsOf(m);
    if (arrayKeywords) Object.assign(derived, arrayKeywords);
    const keywords = keywordsOf(m);
    if (!keywords) continue;
    if (isArray && m.each) items = { ...items, ...defined(keywords) };
    else if (!isArray) Object.assign(derived, defined(keywords));
  }
  const optional = list.some((m) => m.name === 'isOptional');
  const integer = list.some((m) => m.name === 'isInt' && !(isArray && !m.each));

  const merged: Options = { ...derived, ...(existing ?? { type: designType }) };
  if (Object.keys(items).length > 0 && isArray) {
    const itemType = merged.type === String ? 'string' : merged.type === Number ? 'number' : undefined;
    const current = (merged.items ?? (itemType ? { type: itemType } : {})) as Options;
    merged.items = { ...items, ...current };
  }
  if (optional) merged.required = false;
  if (integer && !isArray && (merged.type === Number || merged.type === 'number' || merged.type === undefined)) {
    merged.type = 'integer';
    delete merged.format;
  }
  if (merged.enum !== undefined && merged.type === String) merged.type = 'string';

  const names = (Reflect.getMetadata(API_MODEL_PROPERTIES_ARRAY, prototype) as string[] | undefined) ?? [];
  if (!names.includes(`:${property}`)) {
    Reflect.defineMetadata(API_MODEL_PROPERTIES_ARRAY, [...names, `:${property}`], prototype);
  }
  Reflect.defineMetadata(API_MODEL_PROPERTIES, merged, prototype, property);
}
