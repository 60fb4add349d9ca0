// Reading ONNX model files: the full decode (tensor bytes stay views of the file buffer), and a cheap
// header scan that reads only the top-level ModelProto fields (producer, opsets, metadata_props) and
// seeks past the graph, so a multi-gigabyte model costs a few small reads.

import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

import { ProtoReader, WireType, utf8Decoder } from './protobuf.js';
import { type Int64, type ModelProto, type OperatorSetIdProto, decodeModel, decodeOperatorSetId, decodeStringStringEntry } from './onnx-proto.js';

export interface ModelHeader {
  irVersion?: Int64;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  opsetImport: OperatorSetIdProto[];
  /** metadata_props as an object (later duplicates win). */
  metadata: Record<string, string>;
}

/** Read and decode a whole .onnx file; errors name the file. */
export function readOnnxModelFile(path: string): { model: ModelProto; bytes: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read ONNX model ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { model: decodeModel(bytes, path), bytes };
}

/** Fields larger than this are skipped by the header scan without being read. */
const SMALL_FIELD = 1 << 20;

/** Scan the top-level fields of a model given as bytes or as a file path (only small fields are read). */
export function readModelHeader(pathOrBytes: string | Uint8Array): ModelHeader {
  if (typeof pathOrBytes !== 'string') return scan(pathOrBytes.length, (pos, len) => pathOrBytes.subarray(pos, pos + len), 'ONNX model bytes');
  const path = pathOrBytes;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`cannot read ONNX model ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const size = fstatSync(fd).size;
    return scan(
      size,
      (pos, len) => {
        const buf = new Uint8Array(Math.min(len, size - pos));
        let off = 0;
        while (off < buf.length) {
          const n = readSync(fd, buf, off, buf.length - off, pos + off);
          if (n === 0) break;
          off += n;
        }
        return buf.subarray(0, off);
      },
      path,
    );
  } finally {
    closeSync(fd);
  }
}

function scan(size: number, read: (pos: number, len: number) => Uint8Array, source: string): ModelHeader {
  const header: ModelHeader = { opsetImport: [], metadata: {} };
  let pos = 0;
  while (pos < size) {
    // A tag and a length take at most 20 bytes.
    const head = read(pos, 20);
    const r = new ProtoReader(head, 0, head.length, source);
    const { field, wire } = r.readTag();
    const fail = (what: string): never => {
      throw new Error(`${source}: invalid ONNX model at byte ${pos}: ${what} (is the file truncated or not an ONNX model?)`);
    };
    if (wire === WireType.Varint) {
      const v = r.readInt64();
      if (field === 1) header.irVersion = v;
      else if (field === 5) header.modelVersion = v;
      pos += r.pos;
    } else if (wire === WireType.Fixed64) pos += r.pos + 8;
    else if (wire === WireType.Fixed32) pos += r.pos + 4;
    else if (wire === WireType.LengthDelimited) {
      const len = r.readVarint();
      const start = pos + r.pos;
      if (start + len > size) fail(`field ${field} of length ${len} runs past the end of the file (${size} bytes)`);
      if ([2, 3, 4, 8, 14].includes(field) && len <= SMALL_FIELD) {
        const body = read(start, len);
        const br = new ProtoReader(body, 0, body.length, source);
        if (field === 2) header.producerName = utf8Decoder.decode(body);
        else if (field === 3) header.producerVersion = utf8Decoder.decode(body);
        else if (field === 4) header.domain = utf8Decoder.decode(body);
        else if (field === 8) header.opsetImport.push(decodeOperatorSetId(br));
        else {
          const e = decodeStringStringEntry(br);
          header.metadata[e.key] = e.value;
        }
      }
      pos = start + len;
    } else fail(`unsupported wire type ${wire} for top-level field ${field}`);
  }
  if (pos !== size) throw new Error(`${source}: invalid ONNX model: the last field runs past the end of the file`);
  return header;
}
