# The authorization server, resource server and demo client in one image; SERVICES picks
# which of them a container runs.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY projections ./projections
COPY bench ./bench
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
# glibc: blocks of 1 MB or more (scrypt's 16 MB per sign-in) go back to the system when freed; see docs/benchmarks.md.
ENV NODE_ENV=production DATA_DIR=/data HOST=0.0.0.0 MALLOC_MMAP_THRESHOLD_=1048576
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000 4000 5000
CMD ["node", "dist/src/main.js"]
