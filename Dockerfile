# syntax=docker/dockerfile:1
# Build: compile TypeScript with all dependencies installed.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: production dependencies and the build only, as an unprivileged user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/bastion
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/bastion && chown -R node:node /var/lib/bastion
USER node
VOLUME ["/var/lib/bastion"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# JWT_SECRET and MASTER_KEY must be provided in production (see README). In the image:
#   node dist/src/cli/main.js migrate        apply migrations (MIGRATIONS_RUN=false to make it a release step)
#   node dist/src/cli/main.js create-admin   create a super_admin
# The flags of `npm run start:prod` (README, Memory): a smaller young generation keeps an idle instance under 150 MB.
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
