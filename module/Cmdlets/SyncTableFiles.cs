using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace SyncPool.Cmdlets;

/// <summary>
/// The files Export-SyncTable writes and Import-SyncTable reads, found the
/// way the built-in file cmdlets find theirs: -Path takes wildcards,
/// -LiteralPath takes the path as written, a missing file is ObjectNotFound,
/// a directory or a path outside the file system is an error that says so.
/// Each failure is written as an ErrorRecord of the calling cmdlet.
/// </summary>
internal static class SyncTableFiles
{
    /// <summary>The files to read for one -Path or -LiteralPath value (none, after an error, when nothing usable matches).</summary>
    public static List<string> ForReading(PSCmdlet cmdlet, string path, bool literal)
    {
        var files = new List<string>();
        if (literal || !WildcardPattern.ContainsWildcardCharacters(path))
        {
            string file = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(AsWritten(path, literal), out var provider, out _);
            if (IsFileSystem(cmdlet, provider, path) && IsFile(cmdlet, file, path, mustExist: true)) files.Add(file);
            return files;
        }
        IEnumerable<string> matches;
        ProviderInfo matched;
        try
        {
            matches = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out matched);
        }
        catch (ItemNotFoundException)
        {
            NoMatch(cmdlet, path);
            return files;
        }
        if (!IsFileSystem(cmdlet, matched, path)) return files;
        bool any = false;
        foreach (var match in matches)
        {
            any = true;
            // A directory among the matches gets its own error.
            if (IsFile(cmdlet, match, match, mustExist: true)) files.Add(match);
        }
        if (!any) NoMatch(cmdlet, path);
        return files;
    }

    /// <summary>The one file to write for -Path or -LiteralPath, or null after an error.</summary>
    public static string? ForWriting(PSCmdlet cmdlet, string path, bool literal)
    {
        string file;
        ProviderInfo provider;
        if (!literal && WildcardPattern.ContainsWildcardCharacters(path))
        {
            List<string> matches;
            try
            {
                matches = new List<string>(cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out provider));
            }
            catch (ItemNotFoundException)
            {
                matches = new List<string>();
                provider = null!;
            }
            if (matches.Count == 0)
            {
                cmdlet.WriteError(new ErrorRecord(
                    new ItemNotFoundException($"No file matches '{path}', and Export-SyncTable only creates files named without wildcards. To create a file whose name contains wildcard characters, use -LiteralPath."),
                    "SyncPool.PathNotFound", ErrorCategory.ObjectNotFound, path));
                return null;
            }
            if (matches.Count > 1)
            {
                cmdlet.WriteError(new ErrorRecord(
                    new ArgumentException($"'{path}' matches {matches.Count} files; Export-SyncTable writes one file. Give a path that matches only one."),
                    "SyncPool.AmbiguousPath", ErrorCategory.InvalidArgument, path));
                return null;
            }
            file = matches[0];
        }
        else
        {
            file = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(AsWritten(path, literal), out provider, out _);
        }
        if (!IsFileSystem(cmdlet, provider, path) || !IsFile(cmdlet, file, path, mustExist: false)) return null;
        string? folder = Path.GetDirectoryName(file);
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            cmdlet.WriteError(new ErrorRecord(
                new ItemNotFoundException($"Cannot write '{file}': the folder '{folder}' does not exist."),
                "SyncPool.PathNotFound", ErrorCategory.ObjectNotFound, path));
            return null;
        }
        return file;
    }

    /// <summary>
    /// A path without wildcards as the file's name: -LiteralPath as given, a
    /// -Path with its escapes (`[) removed, as the built-in file cmdlets do.
    /// </summary>
    private static string AsWritten(string path, bool literal) => literal ? path : WildcardPattern.Unescape(path);

    /// <summary>The error record for a failed read or write of <paramref name="file"/>.</summary>
    public static ErrorRecord Failure(Exception error, string file, bool writing) => error switch
    {
        FileNotFoundException or DirectoryNotFoundException =>
            new ErrorRecord(error, "SyncPool.PathNotFound", ErrorCategory.ObjectNotFound, file),
        UnauthorizedAccessException =>
            new ErrorRecord(error, "SyncPool.FileAccessDenied", ErrorCategory.PermissionDenied, file),
        _ => new ErrorRecord(error, "SyncPool.FileError", writing ? ErrorCategory.WriteError : ErrorCategory.ReadError, file),
    };

    private static bool IsFileSystem(PSCmdlet cmdlet, ProviderInfo? provider, string path)
    {
        if (provider?.ImplementingType == typeof(Microsoft.PowerShell.Commands.FileSystemProvider)) return true;
        cmdlet.WriteError(new ErrorRecord(
            new ArgumentException($"'{path}' is not a file system path (it is in the {provider?.Name ?? "unknown"} provider); give the path of a file."),
            "SyncPool.NotAFileSystemPath", ErrorCategory.InvalidArgument, path));
        return false;
    }

    private static bool IsFile(PSCmdlet cmdlet, string file, string path, bool mustExist)
    {
        if (Directory.Exists(file))
        {
            cmdlet.WriteError(new ErrorRecord(
                new IOException($"'{file}' is a directory, not a file. Give the path of a file{(mustExist ? " to read" : " to write")}."),
                "SyncPool.PathIsDirectory", ErrorCategory.InvalidArgument, path));
            return false;
        }
        if (mustExist && !File.Exists(file))
        {
            cmdlet.WriteError(new ErrorRecord(
                new ItemNotFoundException($"Cannot find the file '{file}' because it does not exist."),
                "SyncPool.PathNotFound", ErrorCategory.ObjectNotFound, path));
            return false;
        }
        return true;
    }

    private static void NoMatch(PSCmdlet cmdlet, string path) =>
        cmdlet.WriteError(new ErrorRecord(
            new ItemNotFoundException($"No file matches '{path}'."),
            "SyncPool.PathNotFound", ErrorCategory.ObjectNotFound, path));
}
