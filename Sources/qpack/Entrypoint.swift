import QPackCommands

@main
enum Entrypoint {
    static func main() {
        QPackCommand.main()
    }
}
