using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Import-SyncTable: reads files written by Export-SyncTable (JSON or CLIXML),
/// or plain JSON objects (members become entries), into a new table per file
/// or into -Table. JSON is checked completely before anything is loaded.
/// Files are found like the built-in file cmdlets find theirs.
/// </summary>
[Cmdlet(VerbsData.Import, "SyncTable", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SyncTable))]
public sealed class ImportSyncTableCommand : SyncPoolCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>Files to read; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Files to read, exactly as written (no wildcards); Get-ChildItem output binds here.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Load into this table instead of a new one.</summary>
    [Parameter]
    public SyncTable? Table { get; set; }

    /// <summary>Name for the new table (see New-SyncTable -Name).</summary>
    [Parameter]
    public string? Name { get; set; }

    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>With -Table: clear it first.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    protected override void ProcessRecord()
    {
        bool literal = ParameterSetName == LiteralPathSet;
        foreach (var path in literal ? LiteralPath : Path)
        {
            foreach (var file in SyncTableFiles.ForReading(this, path, literal)) Import(file);
        }
    }

    private void Import(string file)
    {
        // Loading into -Table changes it (and -Replace clears it first): -WhatIf and -Confirm apply.
        string action = Table is null ? "Import into a new SyncTable" : Replace ? $"Replace the contents of {Table} with" : $"Load into {Table}";
        if (!ShouldProcess(file, action)) return;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(SyncTableFiles.Failure(e, file, writing: false));
            return;
        }
        SyncTable? created = null;
        try
        {
            bytes = AsUtf8(bytes);
            bool clixml = IsClixml(bytes);
            bool caseSensitive = MyInvocation.BoundParameters.ContainsKey(nameof(CaseSensitive)) || clixml
                ? CaseSensitive.IsPresent
                : ExportedCaseSensitive(bytes);
            var table = Table ?? (created = Name is null ? new SyncTable(caseSensitive) : SyncTableRegistry.Create(Name, caseSensitive));
            if (clixml)
            {
                object data;
                try
                {
                    data = PSSerializer.Deserialize(new System.Text.UTF8Encoding(false).GetString(bytes));
                }
                catch (System.Xml.XmlException e)
                {
                    // Malformed, or nested deeper than PowerShell's reader allows (as Import-Clixml reports it).
                    throw new SyncPoolException(ErrorCode.BadFormat, $"'{file}' is CLIXML that PowerShell cannot read: {e.Message}");
                }
                if ((data as PSObject)?.BaseObject is not IDictionary entries)
                    throw new ArgumentException($"'{file}' is CLIXML but does not hold a table.");
                if (Replace) table.Clear();
                foreach (DictionaryEntry entry in entries) table.Set(entry.Key, entry.Value);
            }
            else
            {
                table.ImportJson(bytes, Replace);
            }
            WriteObject(PortableTable.ForPipeline(table));
        }
        catch (Exception e)
        {
            created?.Dispose();
            WriteFailure(e, file);
        }
    }

    /// <summary>
    /// The file's text as UTF-8. A UTF-16 or UTF-32 byte order mark (what
    /// Windows PowerShell's <c>Out-File</c> and <c>&gt;</c> write) is honoured,
    /// as Get-Content does; anything else is read as UTF-8. Text the mark's
    /// encoding cannot decode is refused, never replaced.
    /// </summary>
    private static byte[] AsUtf8(byte[] bytes)
    {
        System.Text.Encoding? encoding = bytes switch
        {
            [0xFF, 0xFE, 0x00, 0x00, ..] => new System.Text.UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true),
            [0x00, 0x00, 0xFE, 0xFF, ..] => new System.Text.UTF32Encoding(bigEndian: true, byteOrderMark: false, throwOnInvalidCharacters: true),
            [0xFF, 0xFE, ..] => new System.Text.UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true),
            [0xFE, 0xFF, ..] => new System.Text.UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true),
            _ => null,
        };
        if (encoding is null) return bytes;
        int mark = encoding is System.Text.UTF32Encoding ? 4 : 2;
        string text;
        try
        {
            text = encoding.GetString(bytes, mark, bytes.Length - mark);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new SyncPoolException(ErrorCode.BadFormat, $"The file starts with a {encoding.EncodingName} byte order mark but is not valid {encoding.EncodingName} text: {e.Message}");
        }
        return System.Text.Encoding.UTF8.GetBytes(text);
    }

    /// <summary>
    /// The "caseSensitive" member of an Export-SyncTable JSON file, so a new
    /// table gets the mode of the table that was exported (false for any
    /// other file: in a plain JSON object such a member is data). Only the
    /// top level is looked at, and Export-SyncTable writes "format" and
    /// "caseSensitive" before the entries, so this reads a few tokens; whether
    /// the file is valid is the core's to decide when it loads it (a file this
    /// cannot read is reported there).
    /// </summary>
    private static bool ExportedCaseSensitive(byte[] utf8)
    {
        var text = utf8.AsSpan();
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];
        var reader = new System.Text.Json.Utf8JsonReader(text);
        bool? ours = null, caseSensitive = null;
        try
        {
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject) return false;
            while (ours is null || caseSensitive is null)
            {
                if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.PropertyName) break;
                bool isFormat = reader.ValueTextEquals("format"), isMode = reader.ValueTextEquals("caseSensitive");
                if (!reader.Read()) break;
                if (isFormat) ours = reader.TokenType == System.Text.Json.JsonTokenType.String && reader.GetString()!.StartsWith("syncpool-table/", StringComparison.Ordinal);
                else if (isMode) caseSensitive = reader.TokenType == System.Text.Json.JsonTokenType.True;
                else reader.Skip();
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            // Not JSON this can read (GetString refuses invalid UTF-8 and lone surrogates): the core reports it.
        }
        return ours == true && caseSensitive == true;
    }

    /// <summary>Whether the file is CLIXML (Export-SyncTable -AsClixml) rather than JSON.</summary>
    private static bool IsClixml(byte[] bytes)
    {
        var text = System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 64)).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return text.StartsWith("<Objs", StringComparison.Ordinal);
    }
}
