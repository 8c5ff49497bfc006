using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace SyncPool.Pool;

/// <summary>
/// Evaluates a script's <c>$using:</c> expressions in the caller (on the
/// cmdlet's thread, in the caller's scope) and keys the values the way the
/// worker's PowerShell looks them up (<see cref="UsingKey"/>).
/// </summary>
/// <remarks>
/// Supported as PowerShell supports them: <c>$using:x</c>, <c>$using:x.Prop</c>,
/// <c>$using:x[0]</c>, <c>$using:h['k'].Prop</c>, <c>$using:env:PATH</c>. The
/// variable is read from the caller's session; a member or index part is
/// then evaluated on that value by PowerShell itself, in the caller's
/// session (the parser allows only property names and constant indexes
/// there, so nothing else can run). Expressions inside a nested parallel
/// command (Start-ParallelTask, ForEach-Object -Parallel, Start-ThreadJob,
/// Start-Job, Invoke-Command) belong to that command and are skipped. Values
/// pass by reference: a SyncTable is the same object in every task.
/// ScriptBlock values are refused: a scriptblock stays bound to the runspace
/// that created it, and running it from several threads corrupts that runspace.
/// </remarks>
internal static class UsingValues
{
    public const string ScriptBlockErrorId = "SyncPool.UsingScriptBlock";
    public const string UndefinedErrorId = "SyncPool.UsingVariableUndefined";
    public const string EvaluationErrorId = "SyncPool.UsingExpressionFailed";

    private static readonly object Undefined = new();

    private static readonly string[] ParallelCommands =
    [
        "Start-ParallelTask", "SyncPool\\Start-ParallelTask", "Start-ThreadJob", "ThreadJob\\Start-ThreadJob", "Start-Job", "Invoke-Command",
        "icm", "sajb", "Start-RSJob", "Invoke-Parallel", "Split-Pipeline",
    ];

    private static readonly string[] ForEachNames = ["ForEach-Object", "foreach", "%"];

    /// <summary>The $using: values of <paramref name="ast"/>, or a terminating ErrorRecord (thrown as <see cref="UsingValueException"/>).</summary>
    public static Dictionary<string, object?> Collect(ScriptBlockAst ast, PSCmdlet caller)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var usingAst in ast.FindAll(a => a is UsingExpressionAst, searchNestedScriptBlocks: true).Cast<UsingExpressionAst>())
        {
            if (InNestedParallelCommand(usingAst, ast)) continue;
            string key = UsingKey.For(usingAst.ToString(), usingAst.SubExpression is VariableExpressionAst);
            if (values.ContainsKey(key)) continue;
            object? value = Evaluate(usingAst, caller);
            if (value is ScriptBlock or PSObject { BaseObject: ScriptBlock })
            {
                throw new UsingValueException(new ErrorRecord(
                    new PSArgumentException(
                        $"The value of '{usingAst}' is a script block. Script blocks cannot be passed with $using: because they stay " +
                        "bound to the runspace that created them, and running one on several threads corrupts that runspace. " +
                        "Pass its text instead ($using:text, then [scriptblock]::Create($using:text) inside the task), " +
                        "or define a function with -ImportFunction."),
                    ScriptBlockErrorId, ErrorCategory.InvalidArgument, usingAst.ToString()));
            }
            values.Add(key, value);
        }
        return values;
    }

    private static object? Evaluate(UsingExpressionAst usingAst, PSCmdlet caller)
    {
        var variable = UsingExpressionAst.ExtractUsingVariable(usingAst);
        string path = variable.VariablePath.UserPath;
        object? value = caller.SessionState.PSVariable.GetValue(path, Undefined);
        // GetValue also answers the default for a variable that holds $null.
        if (ReferenceEquals(value, Undefined) && caller.SessionState.PSVariable.Get(path) is not null) value = null;
        if (ReferenceEquals(value, Undefined))
        {
            throw new UsingValueException(new ErrorRecord(
                new ItemNotFoundException(
                    $"The variable '${path}' used as '{usingAst}' is not defined in the caller's session. Define it before starting the tasks."),
                UndefinedErrorId, ErrorCategory.ObjectNotFound, usingAst.ToString()));
        }
        if (usingAst.SubExpression is VariableExpressionAst) return value;

        // The member/index part, evaluated by PowerShell on the value. The
        // using variable is the leftmost part of the sub-expression.
        var sub = usingAst.SubExpression;
        string rest = sub.Extent.Text[(variable.Extent.EndOffset - sub.Extent.StartOffset)..];
        const string name = "__syncPoolUsingValue";
        try
        {
            var script = caller.InvokeCommand.NewScriptBlock($"param(${name}) ,(${name}{rest})");
            var results = caller.InvokeCommand.InvokeScript(caller.SessionState, script, value);
            return results.Count == 0 ? null : results[0];
        }
        catch (RuntimeException e)
        {
            throw new UsingValueException(new ErrorRecord(e, EvaluationErrorId, ErrorCategory.InvalidArgument, usingAst.ToString()));
        }
    }

    /// <summary>
    /// True if <paramref name="usingAst"/> sits inside a scriptblock given to a
    /// nested parallel command. A $using: in that command's other arguments
    /// (<c>-Pool $using:pool</c>) is evaluated by the task itself, so it is ours.
    /// </summary>
    private static bool InNestedParallelCommand(UsingExpressionAst usingAst, Ast root)
    {
        bool inScriptBlock = false;
        for (var parent = usingAst.Parent; parent is not null && !ReferenceEquals(parent, root); parent = parent.Parent)
        {
            if (parent is ScriptBlockExpressionAst) inScriptBlock = true;
            if (!inScriptBlock || parent is not CommandAst command || command.CommandElements.Count == 0) continue;
            if (command.CommandElements[0] is not StringConstantExpressionAst name) continue;
            string commandName = name.Value;
            if (ParallelCommands.Any(c => c.Equals(commandName, StringComparison.OrdinalIgnoreCase))) return true;
            if (ForEachNames.Any(c => c.Equals(commandName, StringComparison.OrdinalIgnoreCase))
                && command.CommandElements.OfType<CommandParameterAst>().Any(p =>
                    p.ParameterName.Length >= 2 && "Parallel".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>A $using: value could not be taken; carries the ErrorRecord for the cmdlet to throw.</summary>
internal sealed class UsingValueException(ErrorRecord errorRecord) : Exception(errorRecord.Exception.Message, errorRecord.Exception)
{
    public ErrorRecord ErrorRecord { get; } = errorRecord;
}
