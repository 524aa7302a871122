import { Router } from "express";
import { createOpenApiDocument, type OpenApiDocument } from "../openapi.ts";

/** GET /openapi.json: the document of every route, built once on first request. */
export function openApiRoutes(): Router {
  const r = Router();
  let document: OpenApiDocument | null = null;
  r.get("/openapi.json", (_req, res) => {
    document ??= createOpenApiDocument({ version: API_DOCUMENT_VERSION });
    res.json(document);
  });
  return r;
}

/** The version of the API's contract (paths stay under /api/v1 while it is 1.x). */
export const API_DOCUMENT_VERSION = "1.1.0";
