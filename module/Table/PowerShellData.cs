using System;
using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace SyncPool.Table;

/// <summary>
/// PowerShell values as data and back: what a table's arrays, hashtables,
/// ordered dictionaries, [PSCustomObject]s and the values inside them become
/// when they leave the process (rust/src/data defines the data model and its
/// JSON). This is the one place that decides how a .NET value maps to data.
/// </summary>
/// <remarks>
/// <para>
/// Saved as data, and read back as the same type: $null, bool, every integer
/// type, double, float ([single]), decimal (with its scale), [bigint], string,
/// char, byte[], DateTime (with its Kind), DateTimeOffset, TimeSpan, Guid,
/// Uri, Version; arrays and lists (read back as object[]); hashtables and
/// other dictionaries (read back as a PowerShell @{} hashtable, keys ignoring
/// case); ordered dictionaries (read back as [ordered]@{}); [PSCustomObject]
/// with its note properties in order and its PSTypeName. Enums are saved as
/// their values and read back as their underlying integer (the enum type may
/// not exist where the data is read).
/// </para>
/// <para>
/// Anything else (a live $host, a service, a scriptblock, a SyncTable) is
/// not data: it is marked with its type, and the export refuses it, naming
/// where it was. Other members of a wrapped value (a string's PSPath note) are
/// not saved, just as the table itself stores the bare string. Of a
/// [PSCustomObject]'s own members, alias properties of note properties and
/// code properties are saved with the value they give, and read back as note
/// properties. A script property is not data: its scriptblock belongs to the
/// runspace that made it, and running it from another thread waits for that
/// runspace (which may be busy for ever), so the export names it instead of
/// dropping it without a word. Members from type data are not the object's
/// own and are left out (they come back with its PSTypeName). Containers nest
/// at most <see cref="MaxDepth"/> levels.
/// </para>
/// <para>
/// PowerShell types are only touched when a PSObject is met or a
/// [PSCustomObject] is read, so plain .NET callers need no PowerShell.
/// </para>
/// </remarks>
internal static class PowerShellData
{
    /// <summary>How deeply containers may nest (rust/src/data MAX_DEPTH).</summary>
    public const int MaxDepth = 50;

    private const string PSCustomObjectTypeName = "System.Management.Automation.PSCustomObject";

    /// <summary>Writes <paramref name="value"/> as data.</summary>
    public static void Write(DataWriter writer, object? value) => Write(writer, value, 0);

    private static void Write(DataWriter w, object? value, int depth)
    {
        if (value is not null && PowerShellValues.IsPSObject(value))
        {
            WritePSObject(w, value, depth);
            return;
        }
        switch (value)
        {
            case null:
                w.Tag(DataTag.Null);
                return;
            case string text:
                w.Tag(DataTag.Text);
                w.Text(text);
                return;
            case bool b:
                w.Tag(DataTag.Bool);
                w.U8(b ? (byte)1 : (byte)0);
                return;
            case int i:
                Integer(w, IntKind.Int, i);
                return;
            case long l:
                Integer(w, IntKind.Long, l);
                return;
            case short s:
                Integer(w, IntKind.Short, s);
                return;
            case byte b8:
                Integer(w, IntKind.Byte, b8);
                return;
            case sbyte sb:
                Integer(w, IntKind.SByte, sb);
                return;
            case ushort us:
                Integer(w, IntKind.UShort, us);
                return;
            case uint ui:
                Integer(w, IntKind.UInt, ui);
                return;
            case ulong ul:
                w.Tag(DataTag.Integer);
                w.Integer(IntKind.ULong, ul);
                return;
            case double d:
                w.Tag(DataTag.Double);
                w.U64(BitConverter.DoubleToUInt64Bits(d));
                return;
            case float f:
                w.Tag(DataTag.Single);
                w.U32(BitConverter.SingleToUInt32Bits(f));
                return;
            case System.Numerics.BigInteger big:
                w.Tag(DataTag.BigInteger);
                w.Text(big.ToString(CultureInfo.InvariantCulture));
                return;
            case decimal m:
                w.Tag(DataTag.Decimal);
                w.Text(m.ToString(CultureInfo.InvariantCulture));
                return;
            case char c:
                w.Tag(DataTag.Char);
                w.U16(c);
                return;
            case byte[] bytes:
                w.Tag(DataTag.Bytes);
                w.Bytes(bytes);
                return;
            case DateTime date:
            {
                var (ticks, kind) = DateForms.Hold(date);
                w.Tag(DataTag.DateTime);
                w.I64(ticks);
                w.U8(kind);
                return;
            }
            case DateTimeOffset offset:
                w.Tag(DataTag.DateTimeOffset);
                w.I64(offset.Ticks);
                w.I16((short)offset.Offset.TotalMinutes);
                return;
            case TimeSpan span:
                w.Tag(DataTag.TimeSpan);
                w.I64(span.Ticks);
                return;
            case Guid guid:
                w.Tag(DataTag.Guid);
                w.Text(guid.ToString("D"));
                return;
            case Uri uri:
                w.Tag(DataTag.Uri);
                w.Text(uri.OriginalString);
                return;
            case Version version:
                w.Tag(DataTag.Version);
                w.Text(version.ToString());
                return;
            case Enum e:
                WriteEnum(w, e);
                return;
            case SyncTable:
                // A table is a live, shared object: saving a copy of it as data would
                // quietly turn it into a hashtable.
                Unsavable(w, value.GetType().FullName!, value);
                return;
            case IDictionary or IList when depth >= MaxDepth:
                Unsavable(w, $"value nested deeper than {MaxDepth} levels (does it contain itself?)");
                return;
            case IDictionary dictionary:
                w.Tag(DataTag.Dictionary);
                w.U8(dictionary is IOrderedDictionary ? (byte)1 : (byte)0);
                w.Length(dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                {
                    Write(w, entry.Key, depth + 1);
                    Write(w, entry.Value, depth + 1);
                }
                return;
            case IList list:
                w.Tag(DataTag.List);
                w.Length(list.Count);
                foreach (var item in list) Write(w, item, depth + 1);
                return;
            default:
                Unsavable(w, value.GetType().FullName ?? value.GetType().Name, value);
                return;
        }
    }

    private static void Integer(DataWriter w, IntKind kind, long value)
    {
        w.Tag(DataTag.Integer);
        w.Integer(kind, unchecked((ulong)value));
    }

    private static void Unsavable(DataWriter w, string typeName, object? value = null)
    {
        if (value is not null) w.MetUnsavable?.Invoke(value);
        w.Unsavables++;
        w.Tag(DataTag.Unsavable);
        w.Text(typeName);
    }

    private static void WriteEnum(DataWriter w, Enum value)
    {
        var type = value.GetType();
        var kind = Type.GetTypeCode(Enum.GetUnderlyingType(type)) switch
        {
            TypeCode.Int32 => IntKind.Int,
            TypeCode.Int64 => IntKind.Long,
            TypeCode.Int16 => IntKind.Short,
            TypeCode.Byte => IntKind.Byte,
            TypeCode.SByte => IntKind.SByte,
            TypeCode.UInt16 => IntKind.UShort,
            TypeCode.UInt32 => IntKind.UInt,
            _ => IntKind.ULong,
        };
        ulong bits = kind == IntKind.ULong ? Convert.ToUInt64(value, CultureInfo.InvariantCulture) : unchecked((ulong)Convert.ToInt64(value, CultureInfo.InvariantCulture));
        w.Tag(DataTag.Enum);
        w.Text(type.FullName ?? type.Name);
        w.Text(value.ToString());
        w.Integer(kind, bits);
    }

    // Kept out of line: only code that met a PSObject needs PowerShell loaded.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WritePSObject(DataWriter w, object value, int depth)
    {
        var wrapped = (PSObject)value;
        if (wrapped.BaseObject is not PSCustomObject)
        {
            Write(w, wrapped.BaseObject, depth);
            return;
        }
        if (depth >= MaxDepth)
        {
            Unsavable(w, $"value nested deeper than {MaxDepth} levels (does it contain itself?)");
            return;
        }
        w.Tag(DataTag.Object);
        var ownNames = new System.Collections.Generic.List<string>();
        foreach (var name in wrapped.TypeNames)
        {
            if (name == PSCustomObjectTypeName) break;
            ownNames.Add(name);
        }
        w.Length(ownNames.Count);
        foreach (var name in ownNames) w.Text(name);
        var properties = new System.Collections.Generic.List<PSPropertyInfo>();
        foreach (var property in wrapped.Properties)
        {
            if (property.IsInstance && property is PSNoteProperty or PSScriptProperty or PSAliasProperty or PSCodeProperty) properties.Add(property);
        }
        w.Length(properties.Count);
        foreach (var property in properties)
        {
            w.Text(property.Name);
            if (property is PSNoteProperty note)
            {
                Write(w, note.Value, depth + 1);
                continue;
            }
            if (property is PSScriptProperty || property is PSAliasProperty alias && wrapped.Properties[alias.ReferencedMemberName] is not PSNoteProperty)
            {
                Unsavable(w, $"{property.MemberType} (computed by a scriptblock; make it a note property, or use -AsClixml)");
                continue;
            }
            object? current;
            try
            {
                current = property.Value;
            }
            catch (ExtendedTypeSystemException e) when (e.InnerException is not PipelineStoppedException)
            {
                Unsavable(w, $"{property.MemberType} whose getter failed ({(e.InnerException ?? e).Message})");
                continue;
            }
            Write(w, current, depth + 1);
        }
    }

    /// <summary>Reads one value written by the core.</summary>
    public static object? Read(ref DataReader r)
    {
        var tag = r.Tag();
        switch (tag)
        {
            case DataTag.Null: return null;
            case DataTag.Bool: return r.U8() != 0;
            case DataTag.Integer:
            {
                var (kind, bits) = r.Integer();
                return IntegerValue(kind, bits);
            }
            case DataTag.Double: return BitConverter.UInt64BitsToDouble(r.U64());
            case DataTag.Single: return BitConverter.UInt32BitsToSingle(r.U32());
            case DataTag.BigInteger: return System.Numerics.BigInteger.Parse(r.Text(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            case DataTag.Decimal: return decimal.Parse(r.Text(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            case DataTag.Text: return r.Text();
            case DataTag.Char: return (char)r.U16();
            case DataTag.Bytes: return r.Bytes();
            case DataTag.DateTime:
            {
                long ticks = r.I64();
                return DateForms.Restore(ticks, r.U8());
            }
            case DataTag.DateTimeOffset:
            {
                long ticks = r.I64();
                return new DateTimeOffset(ticks, TimeSpan.FromMinutes(r.I16()));
            }
            case DataTag.TimeSpan: return new TimeSpan(r.I64());
            case DataTag.Guid: return Guid.ParseExact(r.Text(), "D");
            case DataTag.Uri: return new Uri(r.Text(), UriKind.RelativeOrAbsolute);
            case DataTag.Version: return Version.Parse(r.Text());
            case DataTag.Enum:
            {
                _ = r.Text(); // the enum's type: kept in the file for people, not needed to read it back
                _ = r.Text(); // the member name
                var (kind, bits) = r.Integer();
                return IntegerValue(kind, bits);
            }
            case DataTag.List:
            {
                var items = new object?[r.Length()];
                for (int i = 0; i < items.Length; i++) items[i] = Read(ref r);
                return items;
            }
            case DataTag.Dictionary:
            {
                bool ordered = r.U8() != 0;
                int count = r.Length();
                // What PowerShell's @{} and [ordered]@{} create: keys ignore case.
                IDictionary dictionary = ordered
                    ? new OrderedDictionary(count, StringComparer.OrdinalIgnoreCase)
                    : new Hashtable(count, StringComparer.OrdinalIgnoreCase);
                for (int i = 0; i < count; i++)
                {
                    var key = Read(ref r) ?? throw new InvalidOperationException("SyncPool's data from the native core has a $null dictionary key.");
                    dictionary.Add(key, Read(ref r));
                }
                return dictionary;
            }
            case DataTag.Object: return ReadObject(ref r);
            default:
                throw new InvalidOperationException($"SyncPool's data from the native core has an unexpected tag {tag}.");
        }
    }

    private static object IntegerValue(IntKind kind, ulong bits) => kind switch
    {
        IntKind.Int => ValueCodec.Narrow(unchecked((long)bits)),
        IntKind.Long => unchecked((long)bits),
        IntKind.Short => unchecked((short)bits),
        IntKind.Byte => unchecked((byte)bits),
        IntKind.SByte => unchecked((sbyte)bits),
        IntKind.UShort => unchecked((ushort)bits),
        IntKind.UInt => unchecked((uint)bits),
        _ => bits,
    };

    // Kept out of line: only reading a [PSCustomObject] needs PowerShell loaded.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object ReadObject(ref DataReader r)
    {
        var typeNames = new string[r.Length()];
        for (int i = 0; i < typeNames.Length; i++) typeNames[i] = r.Text();
        var result = new PSObject();
        int count = r.Length();
        for (int i = 0; i < count; i++)
        {
            string name = r.Text();
            result.Properties.Add(new PSNoteProperty(name, Read(ref r)));
        }
        for (int i = typeNames.Length - 1; i >= 0; i--) result.TypeNames.Insert(0, typeNames[i]);
        return result;
    }
}
