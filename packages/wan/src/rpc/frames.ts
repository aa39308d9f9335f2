// Newline-delimited JSON frames over a TCP stream, with a hard cap on a frame's size so a peer cannot make
// the reader buffer without bound.
export const MAX_FRAME_BYTES = 2 << 20;

export class FrameReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  constructor(
    private readonly onFrame: (frame: unknown) => void,
    private readonly onError: (reason: string) => void,
  ) {}

  push(data: Buffer): void {
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      const line = Buffer.concat([...this.buffered, data.subarray(start, nl)]);
      this.buffered = [];
      this.bufferedBytes = 0;
      start = nl + 1;
      this.parse(line);
    }
    if (start < data.length) {
      this.buffered.push(data.subarray(start));
      this.bufferedBytes += data.length - start;
      if (this.bufferedBytes > MAX_FRAME_BYTES) this.onError(`frame larger than ${MAX_FRAME_BYTES} bytes`);
    }
  }

  private parse(line: Buffer): void {
    if (line.length > MAX_FRAME_BYTES) {
      this.onError(`frame larger than ${MAX_FRAME_BYTES} bytes`);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(line.toString("utf8"));
    } catch {
      this.onError("frame is not JSON");
      return;
    }
    this.onFrame(frame);
  }
}

export function encodeFrame(frame: unknown): string {
  return `${JSON.stringify(frame)}\n`;
}
