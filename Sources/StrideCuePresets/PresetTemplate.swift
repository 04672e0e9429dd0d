// What `stridecue preset new` writes: a preset that decodes as it is and says, key by key, what
// a coach may change.

/// A new preset's text: every common key with a comment saying what it does.
public func presetTemplate(name: String) -> String {
    let words = name.split(separator: "-").joined(separator: " ")
    let title = words.prefix(1).uppercased() + words.dropFirst()
    return """
        # \(title): a StrideCue preset. Every key is optional except cadence.
        # 'stridecue preset set \(name) KEY=VALUE' changes a value and keeps these comments.
        name: \(title)
        about: What the drill is for and how it should feel, in a sentence or two.
        cadence: 180                  # steps per minute
        count-in: 4                   # clicks before each set
        sets: 1
        set: {duration: 5 min}        # or {steps: 40}, or {distance: 20 m, step-length: 0.5 m}
        rest: 60 s                    # between sets
        accent: 0                     # 2 accents one foot
        sound: woodblock

        """
}
