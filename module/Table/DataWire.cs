using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace SyncPool.Table;

/// <summary>
/// The byte layout data crosses the C ABI in, written and read here exactly
/// as rust/src/data/wire.rs defines it (that file documents every tag).
/// <see cref="PowerShellData"/> decides which .NET values become which data;
/// this only lays the bytes out.
/// </summary>
internal enum DataTag : byte
{
    Null = 0,
    Bool = 1,
    Integer = 2,
    Double = 3,
    Decimal = 4,
    Text = 5,
    Char = 6,
    Bytes = 7,
    DateTime = 8,
    DateTimeOffset = 9,
    TimeSpan = 10,
    Guid = 11,
    Uri = 12,
    Version = 13,
    Enum = 14,
    List = 15,
    Dictionary = 16,
    Object = 17,
    Unsavable = 18,
    Single = 19,
    BigInteger = 20,
}

/// <summary>The .NET integer type of an integer, in the order of Rust's <c>IntKind::ALL</c>.</summary>
internal enum IntKind : byte
{
    /// <summary>[int] when it fits, [long] otherwise (how a table hands integers back).</summary>
    Int = 0,
    Long = 1,
    Short = 2,
    Byte = 3,
    SByte = 4,
    UShort = 5,
    UInt = 6,
    ULong = 7,
}

/// <summary>Appends data to a growing buffer.</summary>
internal sealed class DataWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>How many values were written as not data (a table on a Redis server then falls back to CLIXML).</summary>
    public int Unsavables { get; set; }

    /// <summary>Told each object written as not data (a Redis table refuses a live one nested in a value).</summary>
    public Action<object>? MetUnsavable { get; init; }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void Tag(DataTag tag) => Reserve(1)[0] = (byte)tag;
    public void U8(byte value) => Reserve(1)[0] = value;
    public void U16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);
    public void I16(short value) => BinaryPrimitives.WriteInt16LittleEndian(Reserve(2), value);
    public void I64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);
    public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
    public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);
    public void Length(int count) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), checked((uint)count));

    /// <summary>Text as strict UTF-8 (an unpaired surrogate is an error, not a '?').</summary>
    public void Text(string text)
    {
        var bytes = StrictUtf8.Encode(text, Span<byte>.Empty, "value");
        Length(bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length));
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        Length(bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length));
    }

    public void Integer(IntKind kind, ulong bits)
    {
        U8((byte)kind);
        U64(bits);
    }
}

/// <summary>Reads data written by the core; a malformed layout is an exception (a bug, never a guess).</summary>
internal ref struct DataReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private int _at;

    public DataReader(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes;
        _at = 0;
    }

    public bool AtEnd => _at == _bytes.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _at + count > _bytes.Length)
            throw new InvalidOperationException($"SyncPool's data from the native core ends early (at byte {_at} of {_bytes.Length}).");
        var span = _bytes.Slice(_at, count);
        _at += count;
        return span;
    }

    public DataTag Tag() => (DataTag)Take(1)[0];
    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public short I16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public int Length() => checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)));
    public string Text() => Encoding.UTF8.GetString(Take(Length()));
    public byte[] Bytes() => Take(Length()).ToArray();

    public (IntKind Kind, ulong Bits) Integer()
    {
        var kind = (IntKind)U8();
        return (kind, U64());
    }
}
