# Pester 5 suite: Export-SyncTable / Import-SyncTable with the values
# PowerShell users really store, and file paths handled like the built-in
# file cmdlets handle them.

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force

    # Runs $Body in $Runspaces runspaces of one pool, each given its index and $Table; waits for all.
    function Invoke-InRunspaces {
        param([scriptblock] $Body, $Table, [int] $Runspaces)
        $pool = [runspacefactory]::CreateRunspacePool(1, 8)
        $pool.Open()
        try {
            $jobs = foreach ($i in 1..$Runspaces) {
                $ps = [powershell]::Create().AddScript($Body.ToString()).AddArgument($i).AddArgument($Table)
                $ps.RunspacePool = $pool
                [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
            }
            foreach ($j in $jobs) {
                if (-not $j.Handle.AsyncWaitHandle.WaitOne(60000)) { throw 'A runspace did not finish within 60 s.' }
                $j.PS.EndInvoke($j.Handle)
                if ($j.PS.HadErrors) { throw "A runspace failed: $($j.PS.Streams.Error)" }
                $j.PS.Dispose()
            }
        }
        finally {
            $pool.Close()
        }
    }
}

Describe 'JSON export keeps PowerShell data as data' {
    BeforeEach { Register-CurrentTest }

    It 'round-trips the seed''s [PSCustomObject] results written from 32 runspaces' {
        $t = New-SyncTable
        Invoke-InRunspaces -Table $t -Runspaces 32 -Body {
            param($i, $Data)
            $Data["host$i"] = [PSCustomObject]@{
                ComputerName = "host$i"
                Ping         = ($i % 2 -eq 0)
                TimeFinished = [DateTime]::new(2026, 1, 2, 3, 4, $i % 60, [DateTimeKind]::Local)
            }
        }
        $t.Count | Should -Be 32
        $path = Join-Path $TestDrive 'results.json'
        $t | Export-SyncTable $path
        $copy = Import-SyncTable $path
        $copy.Count | Should -Be 32
        foreach ($i in 1..32) {
            $result = $copy["host$i"]
            $result | Should -BeOfType [System.Management.Automation.PSCustomObject]
            $result.psobject.Properties.Name -join ',' | Should -Be 'ComputerName,Ping,TimeFinished'
            $result.ComputerName | Should -Be "host$i"
            $result.Ping | Should -Be ($i % 2 -eq 0)
            $result.TimeFinished | Should -Be $t["host$i"].TimeFinished
            $result.TimeFinished.Kind | Should -Be 'Local'
        }
    }

    It 'round-trips arrays, hashtables, ordered dictionaries, decimals, GUIDs, TimeSpans, enums, URIs and nesting' {
        $t = New-SyncTable
        $t.log = @('start')
        [void]$t.Update('log', { param($old) @($old) + 'entry' })
        $t.settings = @{ Retries = 3; Hosts = @('a', 'b'); Inner = @{ Deep = [ordered]@{ x = 1 } } }
        $t.order = [ordered]@{ z = 1; a = 2; m = 3 }
        $t.price = 19.90d
        $t.id = [guid]'0f8fad5b-d9cb-469f-a165-70867728950e'
        $t.took = [timespan]'01:02:03.5'
        $t.day = [DayOfWeek]::Friday
        $t.site = [uri]'https://example.org/path?q=1'
        $t.version = [version]'7.6.9'
        $t.typed = [PSCustomObject]@{ PSTypeName = 'Seed.Result'; Name = 'x'; Items = @([PSCustomObject]@{ N = 1 }, 2) }
        $path = Join-Path $TestDrive 'data.json'
        Export-SyncTable -Table $t -Path $path
        $copy = Import-SyncTable -Path $path

        $copy.log -join ',' | Should -Be 'start,entry'
        $copy.log.GetType() | Should -Be ([object[]])
        $copy.settings | Should -BeOfType [hashtable]
        $copy.settings.retries | Should -Be 3 -Because 'keys of a PowerShell hashtable ignore case'
        $copy.settings.Hosts -join ',' | Should -Be 'a,b'
        $copy.settings.Inner.Deep | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
        $copy.order | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
        $copy.order.Keys -join ',' | Should -Be 'z,a,m'
        $copy.price | Should -BeOfType [decimal]
        "$($copy.price)" | Should -Be '19.90'
        $copy.id | Should -BeOfType [guid]
        $copy.id | Should -Be $t.id
        $copy.took | Should -Be ([timespan]'01:02:03.5')
        $copy.day | Should -Be 5 -Because 'an enum is saved as its value'
        $copy.site | Should -BeOfType [uri]
        $copy.site.AbsoluteUri | Should -Be 'https://example.org/path?q=1'
        $copy.version | Should -Be ([version]'7.6.9')
        $copy.typed.psobject.TypeNames[0] | Should -Be 'Seed.Result'
        $copy.typed.Items[0].N | Should -Be 1
        $copy.typed.Items[1] | Should -Be 2
        # What was imported exports to a file that imports to itself (only the
        # enum changed on the first trip: it came back as its value).
        $again = Join-Path $TestDrive 'again.json'
        $third = Join-Path $TestDrive 'third.json'
        $copy | Export-SyncTable $again
        Import-SyncTable $again | Export-SyncTable $third
        Get-Content $third -Raw | Should -BeExactly (Get-Content $again -Raw)
        (Get-Content $again -Raw) -replace '(?s)\{\s*"key": "day".*?\}', '' | Should -BeExactly ((Get-Content $path -Raw) -replace '(?s)\{\s*"key": "day".*?\}', '')
    }

    It 'keeps a local DateTime the same moment on a machine in another time zone, at the top and nested' {
        # A Local DateTime was saved as its wall-clock ticks: read in Tokyo, 12:00 in New
        # York (16:00Z) became 12:00 Tokyo time (03:00Z). Export-Clixml keeps the moment.
        $path = Join-Path $TestDrive 'zones.json'
        $write = @"
Import-Module '$($env:SYNCPOOL_MODULE_PATH)'
`$when = [datetime]::new(2024, 6, 1, 12, 0, 0, [DateTimeKind]::Local)
`$t = New-SyncTable
`$t.top = `$when
`$t.nested = [pscustomobject]@{ TimeFinished = `$when; List = @(`$when) }
`$t.utc = [datetime]::new(2024, 6, 1, 12, 0, 0, [DateTimeKind]::Utc)
`$t.plain = [datetime]::new(2024, 6, 1, 12, 0, 0, [DateTimeKind]::Unspecified)
`$t.same = `$t.top -eq `$when -and `$t.top.Kind -eq 'Local'
Export-SyncTable `$t '$path'
`$when.ToUniversalTime().ToString('o')
"@
        $writer = Invoke-ChildPwsh -Command $write -Environment @{ TZ = 'America/New_York' }
        $writer.Error | Should -BeNullOrEmpty
        $writer.Output | Should -Be '2024-06-01T16:00:00.0000000Z'
        $read = @"
Import-Module '$($env:SYNCPOOL_MODULE_PATH)'
`$t = Import-SyncTable '$path'
`$t.top.ToUniversalTime().ToString('o'), `$t.top.Kind
`$t.nested.TimeFinished.ToUniversalTime().ToString('o'), `$t.nested.TimeFinished.Kind
`$t.nested.List[0].ToUniversalTime().ToString('o')
`$t.utc.ToString('o'), `$t.plain.ToString('o'), `$t.same
"@
        $reader = Invoke-ChildPwsh -Command $read -Environment @{ TZ = 'Asia/Tokyo' }
        $reader.Error | Should -BeNullOrEmpty
        $reader.Output | Should -Be @(
            '2024-06-01T16:00:00.0000000Z', 'Local'
            '2024-06-01T16:00:00.0000000Z', 'Local'
            '2024-06-01T16:00:00.0000000Z'
            '2024-06-01T12:00:00.0000000Z', '2024-06-01T12:00:00.0000000', 'True')
    }

    It 'keeps every local DateTime exactly, also ones whose UTC moment does not give them back' {
        # A time daylight saving skips, one in the hour it repeats, and the ends of the
        # range, in and out of the table and through a file, at the top and nested.
        $path = Join-Path $TestDrive 'edges.json'
        $script = @"
Import-Module '$($env:SYNCPOOL_MODULE_PATH)'
`$cases = @(
    [datetime]::new(2024, 3, 10, 2, 30, 0, [DateTimeKind]::Local)
    [datetime]::new(2024, 11, 3, 1, 30, 0, [DateTimeKind]::Local)
    [datetime]::SpecifyKind([datetime]::MaxValue, [DateTimeKind]::Local)
    [datetime]::SpecifyKind([datetime]::MinValue, [DateTimeKind]::Local))
`$t = New-SyncTable
for (`$i = 0; `$i -lt `$cases.Count; `$i++) { `$t["top`$i"] = `$cases[`$i]; `$t["nested`$i"] = @{ d = `$cases[`$i] } }
Export-SyncTable `$t '$path'
`$u = Import-SyncTable '$path'
for (`$i = 0; `$i -lt `$cases.Count; `$i++) {
    foreach (`$got in `$t["top`$i"], `$t["nested`$i"].d, `$u["top`$i"], `$u["nested`$i"].d) {
        '{0} {1} {2}' -f `$i, (`$got.Ticks -eq `$cases[`$i].Ticks), `$got.Kind
    }
}
"@
        $child = Invoke-ChildPwsh -Command $script -Environment @{ TZ = 'America/New_York' }
        $child.Error | Should -BeNullOrEmpty
        $child.Output | Should -Be @(foreach ($i in 0..3) { @("$i True Local") * 4 })
    }

    It 'gives a new table the exported table''s case sensitivity, unless -CaseSensitive says otherwise' {
        $path = Join-Path $TestDrive 'cased.json'
        $c = New-SyncTable -CaseSensitive
        $c.A = 1; $c.a = 2
        Export-SyncTable $c $path
        $copy = Import-SyncTable $path
        $copy.CaseSensitive | Should -BeTrue
        $copy.Count | Should -Be 2
        $copy['A'], $copy['a'] | Should -Be 1, 2
        { Import-SyncTable $path -CaseSensitive:$false -ErrorAction Stop } | Should -Throw -ErrorId 'SyncPool.BadFormat,SyncPool.Cmdlets.ImportSyncTableCommand'
        (Import-SyncTable $path -Table (New-SyncTable -CaseSensitive)).Count | Should -Be 2
        $i = New-SyncTable; $i.x = 1
        Export-SyncTable $i $path -Force
        (Import-SyncTable $path).CaseSensitive | Should -BeFalse
        (Import-SyncTable $path -CaseSensitive).CaseSensitive | Should -BeTrue
        # In a plain JSON object, a member of that name is data.
        '{"caseSensitive": true, "x": 1}' | Set-Content $path
        $plain = Import-SyncTable $path
        $plain.get_CaseSensitive() | Should -BeFalse
        $plain['caseSensitive'] | Should -BeTrue
    }

    It 'saves the alias properties of a [PSCustomObject] with their values, and names its script properties instead of dropping them' {
        # Both were left out without a word: only the note properties came back. A script
        # property's scriptblock belongs to the runspace that made it, so it is not run.
        $o = [pscustomobject]@{ A = 1 }
        $o | Add-Member AliasProperty AA A
        $t = New-SyncTable
        $t.o = $o
        $path = Join-Path $TestDrive 'computed.json'
        Export-SyncTable $t $path
        $copy = (Import-SyncTable $path).o
        $copy.psobject.Properties.Name -join ',' | Should -Be 'A,AA'
        $copy.A, $copy.AA | Should -Be 1, 1
        ($copy.psobject.Properties.MemberType | Select-Object -Unique) | Should -Be 'NoteProperty'
        $scripted = [pscustomobject]@{ Fine = 1 }
        $scripted | Add-Member ScriptProperty Computed { $this.Fine + 1 }
        $t.scripted = $scripted
        $err = $null
        Export-SyncTable $t $path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.NotSerializable,*'
        $err[0].Exception.Message | Should -BeLike "*'scripted' holds a ScriptProperty (computed by a scriptblock*Computed*"
        # -AsClixml saves it, as Export-Clixml does.
        Export-SyncTable $t $path -Force -AsClixml
        (Import-SyncTable $path).scripted.Computed | Should -Be 2
    }

    It 'keeps [single] and [bigint] values, at the top and nested' {
        # A nested [single] came back as [double] (1.100000023841858), and a [bigint]
        # was refused as a live object.
        $t = New-SyncTable
        $t.big = [bigint]::Parse('-123456789012345678901234567890')
        $t.nested = @{ s = [single]1.1; b = [bigint]5; list = @([single]::NaN, [single]-0.0) }
        $path = Join-Path $TestDrive 'numbers.json'
        Export-SyncTable $t $path
        $copy = Import-SyncTable $path
        $copy.big | Should -BeOfType [bigint]
        "$($copy.big)" | Should -Be '-123456789012345678901234567890'
        $copy.nested.s | Should -BeOfType [single]
        $copy.nested.s | Should -Be ([single]1.1)
        $copy.nested.b | Should -BeOfType [bigint]
        [single]::IsNaN($copy.nested.list[0]) | Should -BeTrue
        [BitConverter]::SingleToInt32Bits($copy.nested.list[1]) | Should -Be ([BitConverter]::SingleToInt32Bits([single]-0.0))
    }

    It 'names every key that is not data, with category InvalidData, and points to -AsClixml' {
        $t = New-SyncTable
        $t.fine = 1
        $t.Host = $host
        $t.proc = @(1, [System.Diagnostics.Process]::GetCurrentProcess())
        $t.code = { 'a scriptblock' }
        $path = Join-Path $TestDrive 'live.json'
        $err = $null
        Export-SyncTable $t $path -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.NotSerializable,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $message = $err[0].Exception.Message
        $message | Should -Match "Cannot export 3 keys"
        $message | Should -Match "'Host' holds a System.Management.Automation.Internal.Host.InternalHost"
        $message | Should -Match "'proc' holds a System.Diagnostics.Process at \[1\]"
        $message | Should -Match "'code' holds a System.Management.Automation.ScriptBlock"
        $message | Should -Match '-AsClixml'
        Test-Path $path | Should -BeFalse
        Export-SyncTable $t (Join-Path $TestDrive 'live.xml') -AsClixml
        (Import-SyncTable (Join-Path $TestDrive 'live.xml')).Host.Name | Should -Be $host.Name
    }

    It 'imports a plain JSON object: members become entries, objects become [PSCustomObject]' {
        $path = Join-Path $TestDrive 'plain.json'
        @{ ping = $true; hosts = @('a', 'b'); meta = @{ owner = 'ops'; count = 2 } } | ConvertTo-Json -Depth 5 | Set-Content $path
        $t = Import-SyncTable $path
        $t.ping | Should -BeTrue
        $t.hosts -join ',' | Should -Be 'a,b'
        $t.meta | Should -BeOfType [System.Management.Automation.PSCustomObject]
        $t.meta.owner | Should -Be 'ops'
        $t.meta.count | Should -BeOfType [int]
    }

    It 'refuses a bad file as SyncPool.BadFormat and leaves -Table unchanged' {
        $t = New-SyncTable -InitialValue @{ keep = 1 }
        $path = Join-Path $TestDrive 'bad.json'
        '{"format":"syncpool-table/2","entries":[{"key":"a","type":"int","value":1},{"key":"b","type":"int","value":"x"}]}' | Set-Content $path
        $err = $null
        Import-SyncTable $path -Table $t -Replace -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.BadFormat,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -Match "entries\[1\] \(key 'b'\)"
        $t.Count | Should -Be 1
        $t.keep | Should -Be 1
        # CLIXML that PowerShell's reader refuses (here: nested deeper than it reads) is a bad file too.
        $deep = @{}
        $inner = $deep
        foreach ($i in 1..49) { $next = @{}; $inner.x = $next; $inner = $next }
        $d = New-SyncTable
        $d.deep = $deep
        $xml = Join-Path $TestDrive 'deep.xml'
        Export-SyncTable $d $xml -AsClixml
        Import-SyncTable $xml -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.BadFormat,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }
}

Describe 'Export-SyncTable and Import-SyncTable find files like the built-in cmdlets' {
    BeforeEach { Register-CurrentTest }

    It 'takes the path positionally after the table and after pipeline input' {
        $t = New-SyncTable -InitialValue @{ a = 1 }
        Push-Location $TestDrive
        try {
            Export-SyncTable $t ./one.json
            $t | Export-SyncTable ./two.json
            $t | Export-SyncTable -LiteralPath ./three.json
            (Import-SyncTable ./one.json).a | Should -Be 1
            (Import-SyncTable ./two.json).a | Should -Be 1
            (Import-SyncTable -LiteralPath ./three.json).a | Should -Be 1
        }
        finally { Pop-Location }
    }

    It 'reports a missing file as ObjectNotFound and a directory as a clear error' {
        $err = $null
        Import-SyncTable (Join-Path $TestDrive 'missing.json') -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.PathNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err = $null
        Import-SyncTable $TestDrive -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.PathIsDirectory,*'
        $err[0].Exception.Message | Should -Match 'is a directory, not a file'
        $err = $null
        New-SyncTable | Export-SyncTable $TestDrive -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.PathIsDirectory,*'
        $err = $null
        New-SyncTable | Export-SyncTable (Join-Path $TestDrive 'no/such/folder/t.json') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.PathNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err = $null
        Import-SyncTable 'Env:\PATH' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.NotAFileSystemPath,*'
    }

    It 'expands wildcards on -Path, takes -LiteralPath as written, and reads Get-ChildItem output' {
        $folder = Join-Path $TestDrive 'many'
        New-Item -ItemType Directory $folder | Out-Null
        foreach ($n in 1..3) { New-SyncTable -InitialValue @{ n = $n } | Export-SyncTable (Join-Path $folder "part$n.json") }
        $tables = @(Import-SyncTable (Join-Path $folder 'part*.json'))
        $tables.Count | Should -Be 3
        ($tables | ForEach-Object { $_.n } | Sort-Object) -join ',' | Should -Be '1,2,3'
        $merged = New-SyncTable
        $null = Get-ChildItem $folder -Filter '*.json' | Import-SyncTable -Table $merged
        $merged.n | Should -BeIn 1, 2, 3
        $err = $null
        Import-SyncTable (Join-Path $folder 'nothing*.json') -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.PathNotFound,*'

        $bracketed = Join-Path $folder 'run[1].json'
        New-SyncTable -InitialValue @{ b = 1 } | Export-SyncTable -LiteralPath $bracketed
        Test-Path -LiteralPath $bracketed | Should -BeTrue
        (Import-SyncTable -LiteralPath $bracketed).b | Should -Be 1
        # -Path with its wildcards escaped names the same file, as Get-Content -Path does.
        $escaped = Join-Path $folder 'run`[1`].json'
        (Import-SyncTable -Path $escaped).b | Should -Be 1
        New-SyncTable -InitialValue @{ e = 2 } | Export-SyncTable -Path (Join-Path $folder 'new`[2`].json')
        (Import-SyncTable -LiteralPath (Join-Path $folder 'new[2].json')).e | Should -Be 2
        Test-Path -LiteralPath (Join-Path $folder 'new`[2`].json') | Should -BeFalse
    }

    It 'reads UTF-16 and UTF-32 files by their byte order mark, as Get-Content does' {
        foreach ($encoding in 'unicode', 'bigendianunicode', 'utf32', 'utf8BOM') {
            $file = Join-Path $TestDrive "enc-$encoding.json"
            '{"name":"Größe","n":1}' | Out-File -LiteralPath $file -Encoding $encoding
            $t = Import-SyncTable -LiteralPath $file
            $t.name | Should -Be 'Größe' -Because $encoding
            $t.n | Should -Be 1
        }
        # A UTF-16 mark followed by an unpaired surrogate is refused, not patched with U+FFFD
        # (inside a string value, where U+FFFD would import without a word).
        $bad = Join-Path $TestDrive 'bad-utf16.json'
        $text = [byte[]](0xFF, 0xFE) + [Text.Encoding]::Unicode.GetBytes('{"a":"') + [byte[]](0x00, 0xD8) + [Text.Encoding]::Unicode.GetBytes('"}')
        [System.IO.File]::WriteAllBytes($bad, $text)
        $err = $null
        Import-SyncTable -LiteralPath $bad -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.BadFormat,*'
        $err[0].Exception.Message | Should -BeLike '*byte order mark*'
    }

    It 'honours -WhatIf on Import-SyncTable, which with -Table -Replace would clear the table' {
        $path = Join-Path $TestDrive 'whatif.json'
        Export-SyncTable (New-SyncTable -InitialValue @{ new = 1 }) $path
        $t = New-SyncTable -InitialValue @{ keep = 1 }
        Import-SyncTable $path -Table $t -Replace -WhatIf | Should -BeNullOrEmpty
        $t.Keys | Should -Be 'keep'
        Import-SyncTable $path -WhatIf | Should -BeNullOrEmpty
        (Import-SyncTable $path -Table $t -Replace).Keys | Should -Be 'new'
    }

    It 'refuses a second table piped to the same file instead of keeping only the last' {
        $path = Join-Path $TestDrive 'one.json'
        $a = New-SyncTable -InitialValue @{ a = 1 }
        $b = New-SyncTable -InitialValue @{ b = 2 }
        $err = $null
        $a, $b | Export-SyncTable $path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.FileExists,*'
        (Import-SyncTable $path).a | Should -Be 1 -Because 'the first table stays in the file'
    }

    It 'writes through a wildcard only when it matches exactly one file' {
        $folder = Join-Path $TestDrive 'out'
        New-Item -ItemType Directory $folder | Out-Null
        $t = New-SyncTable -InitialValue @{ v = 1 }
        $t | Export-SyncTable (Join-Path $folder 'state.json')
        $t.v = 2
        $t | Export-SyncTable (Join-Path $folder 'st*.json') -Force
        (Import-SyncTable (Join-Path $folder 'state.json')).v | Should -Be 2
        $t | Export-SyncTable (Join-Path $folder 'other.json')
        $err = $null
        $t | Export-SyncTable (Join-Path $folder '*.json') -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.AmbiguousPath,*'
        $err = $null
        $t | Export-SyncTable (Join-Path $folder 'state.json') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.FileExists,*'
    }
}
