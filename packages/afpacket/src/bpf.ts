/**
 * A tiny classic-BPF (cBPF, `struct sock_filter`) assembler: enough to write socket filters by
 * hand (`ld`, `jeq`, `jset`, `ret`) and serialise them for `SO_ATTACH_FILTER`.
 */

/** One cBPF instruction: `{ code, jt, jf, k }` as in `struct sock_filter`. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Opcode classes and fields from `linux/filter.h`. */
export const BPF = {
  LD: 0x00, LDX: 0x01, ALU: 0x04, JMP: 0x05, RET: 0x06,
  W: 0x00, H: 0x08, B: 0x10,
  ABS: 0x20, IND: 0x40, MSH: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, AND: 0x50,
} as const;

/** Load size for {@link ld}: 1, 2 or 4 bytes. */
export type LoadSize = 1 | 2 | 4;

function sizeCode(size: LoadSize): number {
  return size === 1 ? BPF.B : size === 2 ? BPF.H : BPF.W;
}

function u32(k: number, what: string): number {
  if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw new RangeError(`bpf ${what}: k=${k} is not a uint32`);
  return k;
}

function u8(j: number, what: string): number {
  if (!Number.isInteger(j) || j < 0 || j > 255) throw new RangeError(`bpf ${what}: jump offset ${j} is not 0..255`);
  return j;
}

/** `ld{b,h,w} [offset]`: loads `size` bytes at absolute packet offset into A (network order). */
export function ld(size: LoadSize, offset: number): BpfInstruction {
  return { code: BPF.LD | sizeCode(size) | BPF.ABS, jt: 0, jf: 0, k: u32(offset, 'ld') };
}

/** `ldx 4*([offset]&0xf)`: X = IP header length of the byte at `offset`. */
export function ldxMsh(offset: number): BpfInstruction {
  return { code: BPF.LDX | BPF.B | BPF.MSH, jt: 0, jf: 0, k: u32(offset, 'ldxMsh') };
}

/** `ld{b,h,w} [x + offset]`. */
export function ldInd(size: LoadSize, offset: number): BpfInstruction {
  return { code: BPF.LD | sizeCode(size) | BPF.IND, jt: 0, jf: 0, k: u32(offset, 'ldInd') };
}

/** `jeq #k, jt, jf`: jump `jt` instructions forward when A == k, else `jf`. */
export function jeq(k: number, jt: number, jf: number): BpfInstruction {
  return { code: BPF.JMP | BPF.JEQ | BPF.K, jt: u8(jt, 'jeq'), jf: u8(jf, 'jeq'), k: u32(k, 'jeq') };
}

/** `jgt #k, jt, jf`: jump `jt` when A > k (unsigned), else `jf`. */
export function jgt(k: number, jt: number, jf: number): BpfInstruction {
  return { code: BPF.JMP | BPF.JGT | BPF.K, jt: u8(jt, 'jgt'), jf: u8(jf, 'jgt'), k: u32(k, 'jgt') };
}

/** `jge #k, jt, jf`: jump `jt` when A >= k (unsigned), else `jf`. */
export function jge(k: number, jt: number, jf: number): BpfInstruction {
  return { code: BPF.JMP | BPF.JGE | BPF.K, jt: u8(jt, 'jge'), jf: u8(jf, 'jge'), k: u32(k, 'jge') };
}

/** `ja +k`: unconditional jump `k` instructions forward (32-bit offset, for long programs). */
export function ja(k: number): BpfInstruction {
  return { code: BPF.JMP | BPF.JA | BPF.K, jt: 0, jf: 0, k: u32(k, 'ja') };
}

/** `jset #k, jt, jf`: jump `jt` when A & k != 0, else `jf`. */
export function jset(k: number, jt: number, jf: number): BpfInstruction {
  return { code: BPF.JMP | BPF.JSET | BPF.K, jt: u8(jt, 'jset'), jf: u8(jf, 'jset'), k: u32(k, 'jset') };
}

/** `ret #k`: accept `k` bytes of the packet (0 drops it). */
export function ret(k: number): BpfInstruction {
  return { code: BPF.RET | BPF.K, jt: 0, jf: 0, k: u32(k, 'ret') };
}

/** Serialises a program into the host-order byte layout the kernel expects (8 bytes per instruction). */
export function assemble(program: readonly BpfInstruction[]): Buffer {
  if (program.length === 0 || program.length > 4096) throw new RangeError(`bpf program: ${program.length} instructions (1..4096)`);
  const last = program[program.length - 1]!;
  if ((last.code & 0x07) !== BPF.RET) throw new RangeError('bpf program: last instruction must be ret');
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    if ((ins.code & 0x07) === BPF.JMP) {
      const far = (ins.code & 0xf0) === BPF.JA ? ins.k : Math.max(ins.jt, ins.jf);
      if (i + 1 + far >= program.length) throw new RangeError(`bpf program: jump at ${i} leaves the program`);
    }
    const o = i * 8;
    buf.writeUInt16LE(ins.code, o);
    buf.writeUInt8(ins.jt, o + 2);
    buf.writeUInt8(ins.jf, o + 3);
    buf.writeUInt32LE(ins.k >>> 0, o + 4);
  });
  // The kernel reads host order; this package only targets little-endian Linux hosts (x86_64, arm64).
  return buf;
}

/**
 * Runs a program over a packet in JavaScript (the subset emitted by this module). Used to unit-test
 * filters without root; returns the accepted length (0 = drop).
 */
export function interpret(program: readonly BpfInstruction[], pkt: Uint8Array): number {
  let a = 0;
  let x = 0;
  const load = (size: number, off: number): number | undefined => {
    if (off < 0 || off + size > pkt.length) return undefined;
    let v = 0;
    for (let i = 0; i < size; i++) v = (v * 256 + pkt[off + i]!) >>> 0;
    return v;
  };
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc]!;
    const cls = ins.code & 0x07;
    const size = (ins.code & 0x18) === BPF.B ? 1 : (ins.code & 0x18) === BPF.H ? 2 : 4;
    const mode = ins.code & 0xe0;
    if (cls === BPF.LD) {
      const v = load(size, mode === BPF.IND ? x + ins.k : ins.k);
      if (v === undefined) return 0;
      a = v;
    } else if (cls === BPF.LDX && mode === BPF.MSH) {
      const v = load(1, ins.k);
      if (v === undefined) return 0;
      x = (v & 0xf) * 4;
    } else if (cls === BPF.JMP) {
      const op = ins.code & 0xf0;
      const taken = op === BPF.JEQ ? a === ins.k : op === BPF.JSET ? (a & ins.k) !== 0 : op === BPF.JGT ? a > ins.k : a >= ins.k;
      if (op === BPF.JA) pc += ins.k;
      else pc += taken ? ins.jt : ins.jf;
    } else if (cls === BPF.RET) {
      return ins.k;
    } else {
      throw new RangeError(`bpf interpret: unsupported opcode 0x${ins.code.toString(16)} at ${pc}`);
    }
  }
  return 0;
}
