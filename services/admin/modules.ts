/**
 * The modules of the administration API, in mounting order. Each lives in its own file of services/admin/
 * (layers and metadata, imports, styles, users and rights…) and is added here by one line.
 */
import type { AdminModule } from './module.js';
import { stylesModule } from './styles.js';
import { rightsModule } from './rights.js';
import { layersModule } from './layers.js';
import { importsModule } from './imports.js';
import { usageModule } from './usage.js';
import { uploadsModule } from './uploads.js';
import { auditModule } from './audit.js';

export const ADMIN_MODULES: readonly AdminModule[] = [stylesModule, rightsModule, layersModule, importsModule, uploadsModule, usageModule, auditModule];
