using System;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace SyncPool.Pool;

/// <summary>
/// Reads what the cmdlet needs from a scriptblock, on the caller's thread:
/// the text that is sent to the workers, its parse (for $using:) and its
/// <see cref="ScriptShape"/>. The text is parsed again here, so every
/// offset refers to exactly the text the workers will run.
/// </summary>
internal static class ScriptAnalysis
{
    /// <summary>Parses of recent scripts: a script started again and again (a loop, a benchmark) is parsed once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ScriptBlockAst Ast, ScriptShape Shape)> Recent = new(StringComparer.Ordinal);

    private const int RecentLimit = 256;

    public static (string Text, ScriptBlockAst Ast, ScriptShape Shape) Analyze(ScriptBlock scriptBlock)
    {
        ArgumentNullException.ThrowIfNull(scriptBlock);
        string text = scriptBlock.ToString();
        if (Recent.TryGetValue(text, out var known)) return (text, known.Ast, known.Shape);
        var ast = Parser.ParseInput(text, out _, out ParseError[] errors);
        if (errors.Length > 0)
        {
            // Text taken from a scriptblock that parsed once parses again; this
            // only guards against a scriptblock whose text was not its source.
            throw new ParseException(errors);
        }
        var shape = ShapeOf(ast);
        if (Recent.Count >= RecentLimit) Recent.Clear();
        Recent[text] = (ast, shape);
        return (text, ast, shape);
    }

    public static ScriptShape ShapeOf(ScriptBlockAst ast)
    {
        var end = ast.EndBlock;
        bool named = ast.BeginBlock is not null || ast.ProcessBlock is not null || ast.DynamicParamBlock is not null
                     || (end is not null && !end.Unnamed);
        int start = -1, stop = -1;
        if (!named && end is not null)
        {
            foreach (Ast part in end.Statements.Cast<Ast>().Concat(end.Traps ?? Enumerable.Empty<TrapStatementAst>()))
            {
                if (start < 0 || part.Extent.StartOffset < start) start = part.Extent.StartOffset;
                if (part.Extent.EndOffset > stop) stop = part.Extent.EndOffset;
            }
        }

        var parameters = ast.ParamBlock?.Parameters;
        bool cmdletBinding = ast.ParamBlock?.Attributes.Any(a => IsAttribute(a, "CmdletBinding")) ?? false;
        bool parameterAttribute = false, pipeline = false;
        if (parameters is not null)
        {
            foreach (var parameter in parameters)
            {
                foreach (var attribute in parameter.Attributes.OfType<AttributeAst>().Where(a => IsAttribute(a, "Parameter")))
                {
                    parameterAttribute = true;
                    pipeline |= attribute.NamedArguments.Any(n =>
                        (n.ArgumentName.Equals("ValueFromPipeline", StringComparison.OrdinalIgnoreCase)
                         || n.ArgumentName.Equals("ValueFromPipelineByPropertyName", StringComparison.OrdinalIgnoreCase))
                        && IsTrue(n));
                }
            }
        }

        bool Reads(string name) => ast.Find(a => a is VariableExpressionAst v && v.VariablePath.IsUnqualified
                                                && v.VariablePath.UserPath.Equals(name, StringComparison.OrdinalIgnoreCase),
            searchNestedScriptBlocks: false) is not null;
        bool usesInput = Reads("input");

        return new ScriptShape
        {
            HasNamedBlocks = named,
            BodyStart = start,
            BodyEnd = stop,
            IsAdvanced = cmdletBinding || parameterAttribute,
            TakesPipelineInput = pipeline,
            UsesInputVariable = usesInput,
            HasParameters = parameters is { Count: > 0 },
            DefinesTypes = end?.Statements.OfType<TypeDefinitionAst>().Any() ?? false,
            HasScriptDirectives = ast.UsingStatements is { Count: > 0 } || ast.ScriptRequirements is not null,
            UsesArgsVariable = Reads("args"),
        };
    }

    private static bool IsAttribute(AttributeAst attribute, string name)
    {
        string typeName = attribute.TypeName.Name;
        int dot = typeName.LastIndexOf('.');
        if (dot >= 0) typeName = typeName[(dot + 1)..];
        if (typeName.EndsWith("Attribute", StringComparison.OrdinalIgnoreCase)) typeName = typeName[..^"Attribute".Length];
        return typeName.Equals(name, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>`ValueFromPipeline`, `ValueFromPipeline = $true` or `= 1`: anything but an explicit false.</summary>
    private static bool IsTrue(NamedAttributeArgumentAst argument)
    {
        if (argument.ExpressionOmitted) return true;
        return argument.Argument switch
        {
            VariableExpressionAst v => !v.VariablePath.UserPath.Equals("false", StringComparison.OrdinalIgnoreCase),
            ConstantExpressionAst c => LanguagePrimitives.IsTrue(c.Value),
            _ => true,
        };
    }
}
