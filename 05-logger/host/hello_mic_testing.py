from tales_from_ffi import Logger

count = 0

def error_notif():
    global count
    count += 1
    print("Failure logged")
    if count == 2:
        raise Exception("Failed too many times")
    
def test():
    logger = Logger(error_notif)
    logger.log("hello\n")
    logger.log("world\n")
    logger.log("[ERROR] gone wrong\n")
    logger.log("[ERROR] gone wrong\n")

if __name__ == "__main__":
    test()
