# The service image: Node 24 LTS, production dependencies, the committed bundle. No OPA inside —
# bundles are built by compliance engineers with `make bundle` and shipped as files or via the API.
FROM node:24.11.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY console ./console
COPY config ./config
COPY bundles ./bundles
COPY tsconfig.json ./
# Without DATABASE_URL the service keeps its embedded database here: a writable volume owned by
# the unprivileged user the service runs as.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 8080
ENV HOST=0.0.0.0 PORT=8080 RESIDENCY_DATA_DIR=/app/data
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
