// Runs before every test file: drop the schemas the file created once it is done.
import { afterAll } from 'vitest';
import { dropTestSchemas } from './backends.js';

afterAll(dropTestSchemas);
