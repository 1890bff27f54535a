/** Password policy, common-password list and argon2id hashing: pure code, no Nest, no database. */
export * from './argon2-phc';
export * from './common-passwords';
export * from './password-hasher';
export * from './password-policy';
export * from './password-strength';
export * from './password-text';
