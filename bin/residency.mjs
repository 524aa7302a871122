#!/usr/bin/env node
// `npx residency …`: the CLI is TypeScript (src/cli/); tsx compiles it on the fly.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/residency.ts");
