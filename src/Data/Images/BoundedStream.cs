namespace Engine.Data;

/// <summary>
/// A read-only stream over a file's bytes that the decoder library reads through, and that turns
/// a truncated file into an error instead of an image padded with zeros or a wait without end:
/// seeking past the end (a segment that claims more bytes than the file holds) and reading past the
/// end (the library answers such reads with zeros, and its JPEG header loop, waiting for a marker,
/// never saw one; a JPEG cut inside its Huffman tables even decoded, to noise). Valid files are
/// never read past their end.
/// </summary>
internal sealed class BoundedStream(byte[] data) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => data.Length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int ReadByte() => _position < data.Length ? data[_position++] : throw PastEnd();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Min(buffer.Length, data.Length - _position);
        data.AsSpan((int)_position, n).CopyTo(buffer);
        _position += n;
        return n < buffer.Length ? throw PastEnd() : n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => data.Length + offset,
        };
        if (target < 0 || target > data.Length)
            throw new TruncatedImageException($"a segment reaches byte {target} of a {data.Length}-byte file");
        _position = target;
        return target;
    }

    private TruncatedImageException PastEnd() => new($"the data ends at byte {data.Length} before the image does");

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
