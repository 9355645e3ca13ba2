import type { PGlite } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";

/** Permission bits for group and others: never granted on an embedded database's files. */
const GROUP_AND_OTHERS = 0o077;

interface EmscriptenNodeOps {
  mknod(parent: unknown, name: string, mode: number, dev: number): unknown;
  setattr(node: unknown, attr: { mode?: number }): void;
}

/**
 * PGlite's files on disk, private to this process's user. PGlite's WASM PostgreSQL creates
 * files and sets their modes through Emscripten's NODEFS with modes of its own (0666, and
 * explicit chmods), which the process umask does not fully cover; this mount strips the
 * group and other bits from every mode NODEFS creates files with or sets.
 */
export class PrivateNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Parameters<NodeFS["init"]>[1]) {
    const result = await super.init(pg, opts);
    const preRun = result.emscriptenOpts.preRun ?? [];
    const privateModes = (mod: unknown) => {
      const nodefs = (mod as { NODEFS: { node_ops: EmscriptenNodeOps; stream_ops: Pick<EmscriptenNodeOps, "setattr"> } }).NODEFS;
      const { node_ops: nodeOps, stream_ops: streamOps } = nodefs;
      const mknod = nodeOps.mknod.bind(nodeOps);
      const setNode = nodeOps.setattr.bind(nodeOps);
      const setStream = streamOps.setattr.bind(streamOps);
      const masked = (attr: { mode?: number }) => (attr.mode == null ? attr : { ...attr, mode: attr.mode & ~GROUP_AND_OTHERS });
      nodeOps.mknod = (parent, name, mode, dev) => mknod(parent, name, mode & ~GROUP_AND_OTHERS, dev);
      nodeOps.setattr = (node, attr) => setNode(node, masked(attr));
      streamOps.setattr = (stream, attr) => setStream(stream, masked(attr));
    };
    return { emscriptenOpts: { ...result.emscriptenOpts, preRun: [privateModes, ...preRun] } };
  }
}
