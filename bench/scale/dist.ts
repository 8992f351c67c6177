/**
 * The built server (`npm run build`, dist/), as the bench servers load it: what runs in
 * production, not src/ through tsx, whose esbuild keepNames gives every named closure its
 * name as an own property, turning it into a dictionary-mode object of ~256 B more; the
 * handful of closures per open stream would then cost ~1 KB production never pays.
 * build.ts builds it first.
 */
export async function fromDist() {
  const dist = (path: string) => new URL(`../../dist/${path}`, import.meta.url).href;
  return {
    ...((await import(dist("src/server.js"))) as typeof import("../../src/server.js")),
    ...((await import(dist("src/config.js"))) as typeof import("../../src/config.js")),
    ...((await import(dist("gen/voicecode/v1/voicecode_pb.js"))) as typeof import("../../gen/voicecode/v1/voicecode_pb.js")),
  };
}
